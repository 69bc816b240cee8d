// The restore must not wait for the node-side safeguard unit to stop. Against the real test node, the
// guard unit is made slow to stop for real (a runtime drop-in on the transient unit: a long ExecStop,
// or a stop signal the guard ignores, each of which systemd waits out), and the restore still ends
// at once, kills the guard and says so.
import * as assert from 'assert';
import { launchKubeletUnderDelve } from '../../src/debug/kubeletLauncher';
import { shellQuote } from '../../src/ssh/shellQuote';
import { launchConfig, testHooks, useConnectionAndWorkspace } from '../support/launchHooks';
import { expectNodeRestored, kubeletState } from '../support/nodeChecks';
import { sharedNode } from './hooks';

// What systemd's own stop of the guard left behind, had the restore waited for it.
const MARKER = '/run/krd-test-guard-stop';

const SLOW_STOPS = [
  {
    title: 'an ExecStop that takes a minute',
    dropIn: `[Service]\nExecStop=/bin/sh -c 'sleep 60; echo finished > ${MARKER}'\nTimeoutStopSec=120\n`,
    check: /ExecStop=.*sleep 60/,
  },
  {
    // sh ignores SIGWINCH: systemd sends it, then waits TimeoutStopSec for its SIGKILL, and the stop's
    // result is "timeout"; a guard killed before that ends with "signal".
    title: 'a stop signal the guard ignores',
    dropIn: `[Service]\nKillSignal=SIGWINCH\nTimeoutStopSec=60\nExecStopPost=/bin/sh -c 'echo $$SERVICE_RESULT > ${MARKER}'\n`,
    check: /KillSignal=28/,
  },
];

describe('Restore with a safeguard unit that is slow to stop (real node)', function () {
  this.timeout(240_000);
  const suite = useConnectionAndWorkspace(sharedNode);

  for (const slow of SLOW_STOPS) {
    it(`restores without waiting for the guard to stop: ${slow.title}`, async () => {
      const node = sharedNode();
      const before = await kubeletState(node);
      // A long lease grace: nobody renews the lease here, and the guard must not restore on its own.
      const target = await launchKubeletUnderDelve(
        suite.conn(),
        launchConfig({ host: node.sshHosts.root, build: { where: 'local' } }),
        suite.workspace(),
        testHooks({ graceSeconds: 600 }),
      );
      const guard = target.paths.guardUnit;
      const dropInDir = `/run/systemd/system/${guard}.d`;
      try {
        await node.ssh(
          `rm -f ${MARKER}; mkdir -p ${dropInDir} && printf '%s' ${shellQuote(slow.dropIn)} > ${dropInDir}/slow-stop.conf && systemctl daemon-reload`,
        );
        const shown = await node.ssh(`systemctl show -p ExecStop -p KillSignal -p ActiveState ${guard}`);
        assert.match(shown.stdout, slow.check, `the slow stop is in place: ${shown.stdout}`);
        assert.match(shown.stdout, /ActiveState=active/, 'the guard runs');

        const report = await target.restore();

        // Had the restore waited for systemd's stop of the guard, that stop would have finished first.
        const [stopOutcome, guardPids] = (
          await node.ssh(`echo "$(cat ${MARKER} 2>/dev/null)"; systemctl show -p MainPID -p ControlPID --value ${guard} | tr -d '\\n'`)
        ).stdout.split('\n');
        assert.doesNotMatch(
          stopOutcome,
          /finished|timeout/,
          `the restore returned without waiting out the guard's slow stop (systemd's stop ended: ${stopOutcome || 'not yet'})`,
        );
        assert.strictEqual(guardPids, '00', 'nothing of the guard runs any more');
        assert.strictEqual(report.activeState, 'active', JSON.stringify(report));
        assert.deepStrictEqual(report.leftovers, []);
        assert.strictEqual(report.notes?.length, 1, JSON.stringify(report));
        assert.match(report.notes[0], new RegExp(`${guard.replace(/\./g, '\\.')} did not stop within 1 s, so it was killed`));
        await expectNodeRestored(node, before);
      } finally {
        await node.ssh(
          `rm -rf ${dropInDir} ${MARKER}; systemctl daemon-reload; systemctl kill --signal=SIGKILL ${guard} 2>/dev/null; systemctl reset-failed ${guard} 2>/dev/null; true`,
        );
        await target.restore().catch(() => undefined);
      }
    });
  }
});
