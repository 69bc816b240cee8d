// Checks of a test node's state made with OpenSSH, independent of the code under test.
import * as assert from 'assert';
import type { TestNode } from '../node/testNode';

export interface KubeletState {
  active: string;
  pid: number;
  exe: string;
}

export async function kubeletState(node: TestNode): Promise<KubeletState> {
  const r = await node.ssh(
    'pid=$(systemctl show -p MainPID --value kubelet); echo "$(systemctl is-active kubelet) $pid $(readlink /proc/$pid/exe)"',
  );
  const [active, pid, exe] = r.stdout.trim().split(' ');
  return { active, pid: Number(pid), exe: exe ?? '' };
}

/** Nothing of a debug session may be left: the real kubelet runs, no drop-in, guard, state, Delve or port. */
export async function expectNodeRestored(node: TestNode, before?: KubeletState, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    const state = await kubeletState(node);
    const leftovers = (
      await node.ssh(
        [
          'ls /run/systemd/system/kubelet.service.d/ 2>/dev/null',
          'ls -d /run/kubelet-remote-debug/kubelet.service 2>/dev/null',
          'systemctl list-units --all --plain --no-legend "krd-guard-*" 2>/dev/null',
          'pgrep -x dlv',
          'ss -Htlnp | grep \'"dlv"\' || true',
        ].join('; '),
      )
    ).stdout.trim();
    last = `kubelet ${JSON.stringify(state)}; leftovers: ${leftovers || 'none'}`;
    if (state.active === 'active' && state.exe === '/usr/bin/kubelet' && leftovers === '') {
      if (before) {
        assert.notStrictEqual(state.pid, 0);
      }
      return;
    }
    if (Date.now() > deadline) {
      assert.fail(`The node was not restored within ${timeoutMs / 1000} s: ${last}`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}
