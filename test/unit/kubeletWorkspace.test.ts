// When "Kubelet" belongs in the debugger picker, and that package.json asks VS Code the same question.
import * as assert from 'assert';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { hasKubeletLaunchConfiguration, isKubernetesTree, KUBERNETES_TREE_MARKERS } from '../../src/debug/kubeletWorkspace';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const inFolder = (folder: string) => async (relativePath: string) => existsSync(path.join(folder, relativePath));

describe('Kubelet in the debugger picker', () => {
  it('sees the sample kubelet as a Kubernetes tree, and an ordinary Go module as not one', async () => {
    assert.strictEqual(await isKubernetesTree(inFolder(path.join(ROOT, 'test', 'fixtures', 'kubelet-src'))), true);
    const other = mkdtempSync(path.join(tmpdir(), 'krd-go-'));
    try {
      assert.strictEqual(await isKubernetesTree(inFolder(other)), false);
      assert.strictEqual(
        await isKubernetesTree(async () => {
          throw new Error('EACCES');
        }),
        false,
        'an unreadable folder is not one',
      );
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });

  it('sees a kubelet launch configuration', () => {
    assert.strictEqual(hasKubeletLaunchConfiguration([{ type: 'go' }, { type: 'kubelet', name: 'x' }]), true);
    assert.strictEqual(hasKubeletLaunchConfiguration([{ type: 'go' }, null]), false);
    assert.strictEqual(hasKubeletLaunchConfiguration(undefined), false);
  });

  it('activates on the same markers, and hides the debugger unless the key is set or nodes are configured', () => {
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
    for (const marker of KUBERNETES_TREE_MARKERS) {
      assert.ok(pkg.activationEvents.includes(`workspaceContains:${marker}`), marker);
    }
    // Not activating for every workspace's dynamic configurations keeps "Kubelet…" out of the picker there.
    assert.ok(!pkg.activationEvents.some((e: string) => e.startsWith('onDebugDynamicConfigurations')));
    const debuggers = pkg.contributes.debuggers;
    assert.strictEqual(debuggers[0].hiddenWhen, "!kubelet.offerDebugger && config.kubelet.nodes == '[]'");
    assert.strictEqual(debuggers[0].when, undefined, '"when" would also refuse to run kubelet configurations');
  });
});
