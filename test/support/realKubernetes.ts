// The real Kubernetes v1.20.2 tree and its builds, from the harness cache (test/node/real/). The first
// call on a fresh machine builds them (about 15 minutes on 2 cores); `npm run setup` does that ahead.
import { execFileSync } from 'child_process';
import * as path from 'path';
import type { TestNode } from '../node/testNode';

export interface RealKubernetes {
  /** The source tree: a developer's workspace, with the debug build in _output/. */
  src: string;
  /** `make WHAT=cmd/kubelet DBG=1` in v1.20: stripped and optimised (what the node runs). */
  releaseKubelet: string;
  /** GOLDFLAGS="": DWARF kept, optimised. */
  optimisedKubelet: string;
  /** GOLDFLAGS="" GOGCFLAGS="all=-N -l": the debug build. */
  debugKubelet: string;
}

let cached: RealKubernetes | undefined;

export function realKubernetes(): RealKubernetes {
  if (cached) {
    return cached;
  }
  const scripts = path.resolve(__dirname, '..', '..', '..', 'test', 'node', 'real');
  const run = (script: string) =>
    execFileSync(path.join(scripts, script), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })
      .trim()
      .split('\n')
      .pop()!;
  const src = run('kubernetes-source.sh');
  const build = run('build-kubernetes.sh');
  cached = {
    src,
    releaseKubelet: path.join(build, 'kubelet-release'),
    optimisedKubelet: path.join(build, 'kubelet-optimised'),
    debugKubelet: path.join(build, 'kubelet-debug'),
  };
  return cached;
}

/** What a debug session must not change: every container (pod sandboxes included), its task's PID and state. */
export async function podState(node: TestNode): Promise<string> {
  const r = await node.ssh('ctr -n k8s.io tasks ls 2>/dev/null | tail -n +2 | sort');
  if (r.code !== 0) {
    throw new Error(`ctr tasks ls failed on ${node.name}: ${r.stderr}`);
  }
  return r.stdout.trim();
}
