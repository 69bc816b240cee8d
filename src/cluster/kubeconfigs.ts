// The kubeconfig files the cluster part reads and the contexts in them: every file of KUBECONFIG,
// then ~/.kube/config. A context name seen twice keeps its first file, as kubectl's merge does.
// @kubernetes/client-node parses the files and knows every credential kind (certificates, tokens,
// exec plugins); it is loaded on first use, not at activation.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { KubeConfig } from '@kubernetes/client-node';
import { ErrorCode, UserError } from '../common/errors';

/** One context of one kubeconfig file. */
export interface KubeContextRef {
  name: string;
  file: string;
  cluster: string;
  user: string;
  server: string;
}

export interface KubeconfigProblem {
  file: string;
  error: UserError;
}

/** (esbuild keeps a require inside a function lazy; dist/kube.js holds the library.) */
export function kubeClientLibrary(): typeof import('@kubernetes/client-node') {
  return require('@kubernetes/client-node') as typeof import('@kubernetes/client-node');
}

/** KUBECONFIG's files (in order, empty entries skipped), then ~/.kube/config, each once. */
export function kubeconfigFiles(env: NodeJS.ProcessEnv = process.env, home = os.homedir()): string[] {
  const listed = (env.KUBECONFIG ?? '').split(path.delimiter).filter((f) => f.trim() !== '');
  return [...new Set([...listed, path.join(home, '.kube', 'config')].map((f) => path.resolve(f)))];
}

/** Every context of the files that exist; a file that cannot be read or parsed is a problem, not a crash. */
export function loadContexts(files: string[]): { contexts: KubeContextRef[]; problems: KubeconfigProblem[] } {
  const contexts: KubeContextRef[] = [];
  const problems: KubeconfigProblem[] = [];
  const seen = new Set<string>();
  for (const file of files) {
    if (!fs.existsSync(file)) {
      continue; // kubectl ignores listed files that do not exist, and so do we.
    }
    let kc: KubeConfig;
    try {
      kc = loadFile(file);
    } catch (err) {
      problems.push({ file, error: kubeconfigInvalid(file, (err as Error).message) });
      continue;
    }
    for (const c of kc.getContexts()) {
      if (seen.has(c.name)) {
        continue;
      }
      seen.add(c.name);
      contexts.push({ name: c.name, file, cluster: c.cluster, user: c.user, server: kc.getCluster(c.cluster)?.server ?? '' });
    }
  }
  return { contexts, problems };
}

/** The file's KubeConfig with `ref`'s context current, ready to authenticate requests. */
export function kubeConfigFor(ref: KubeContextRef): KubeConfig {
  const kc = loadFile(ref.file);
  kc.setCurrentContext(ref.name);
  return kc;
}

function loadFile(file: string): KubeConfig {
  const kc = new (kubeClientLibrary().KubeConfig)();
  // Relative certificate paths are relative to the file, as kubectl reads them.
  kc.loadFromFile(file);
  return kc;
}

export function kubeconfigInvalid(file: string, cause: string): UserError {
  return new UserError(
    ErrorCode.KubeconfigInvalid,
    `The kubeconfig ${file} cannot be read: ${cause.split('\n')[0]}. Fix the file (kubectl config view shows the same problem); the SSH-configured nodes are not affected.`,
    ['retry'],
  );
}
