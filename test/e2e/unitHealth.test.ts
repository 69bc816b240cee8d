// Edited-but-not-applied detection against real systemd: NeedDaemonReload after an edit without
// daemon-reload, and the running process compared with the unit files (argv and /proc/PID/environ),
// naming the argument or variable that differs.
import * as assert from 'assert';
import { readEffectiveCommand } from '../../src/systemd/effectiveCommand';
import { describeDrift, readManagerEnvironmentNames, readProcessArgv, readProcessEnviron } from '../../src/systemd/unitHealth';
import { readUnitStatus } from '../../src/systemd/unitStatus';
import type { NodeConnection } from '../../src/ssh/nodeConnection';
import { connect } from '../support/nodeClient';
import { sharedNode } from './hooks';

const UNIT = 'krd-drift.service';
const ENV_FILE = '/run/krd-drift.env';
const DROP_IN = `/etc/systemd/system/${UNIT}.d/50-extra.conf`;

describe('Edited but not applied: a running unit against its files', function () {
  this.timeout(120_000);
  let conn: NodeConnection;

  async function root(command: string): Promise<string> {
    const r = await sharedNode().ssh(command);
    assert.strictEqual(r.code, 0, `${command}\n${r.stderr}`);
    return r.stdout;
  }

  /** What the Nodes view computes: the drift between the running process and the unit files. */
  async function drift(): Promise<string[]> {
    const status = await readUnitStatus(conn, UNIT);
    const [effective, argv, environ, managerNames] = await Promise.all([
      readEffectiveCommand(conn, status),
      readProcessArgv(conn, status.mainPid),
      readProcessEnviron(conn, status.mainPid),
      readManagerEnvironmentNames(conn),
    ]);
    return describeDrift(effective, { argv, environ }, managerNames);
  }

  before(async () => {
    conn = connect(sharedNode());
    await root(
      [
        `printf 'SLEEP_MORE=5\\n' > ${ENV_FILE}`,
        `printf '[Service]\\nEnvironment=FROM_UNIT=1\\nEnvironmentFile=${ENV_FILE}\\nExecStart=/bin/sleep infinity $SLEEP_MORE\\n' > /etc/systemd/system/${UNIT}`,
        // The drop-in folder exists from the start: systemd only notices new files in folders it has seen.
        `mkdir -p /etc/systemd/system/${UNIT}.d && printf '[Service]\\n' > /etc/systemd/system/${UNIT}.d/10-base.conf`,
        'systemctl daemon-reload',
        `systemctl restart ${UNIT}`,
      ].join(' && '),
    );
  });

  after(async () => {
    conn?.disconnect();
    await root(
      `systemctl stop ${UNIT}; rm -rf /etc/systemd/system/${UNIT} /etc/systemd/system/${UNIT}.d ${ENV_FILE}; systemctl daemon-reload`,
    );
  });

  it("finds nothing while the process matches its files, systemd's own variables included", async () => {
    assert.deepStrictEqual(await drift(), []);
    assert.strictEqual((await readUnitStatus(conn, UNIT)).needDaemonReload, false);
  });

  it('names a variable added to an environment file that no argument uses, and one whose value changed', async () => {
    await root(`printf 'SLEEP_MORE=5\\nNOT_IN_ARGV=new\\n' > ${ENV_FILE}`);
    assert.deepStrictEqual(await drift(), ['NOT_IN_ARGV is set in the unit files (NOT_IN_ARGV=new) but not in the running process']);
    await root(`printf 'SLEEP_MORE=6\\n' > ${ENV_FILE}`);
    assert.deepStrictEqual(await drift(), [
      'argument 2 is "6" in the unit files but "5" in the running process',
      'SLEEP_MORE is "6" in the unit files but "5" in the running process',
    ]);
    await root(`printf 'SLEEP_MORE=5\\n' > ${ENV_FILE}`);
    assert.deepStrictEqual(await drift(), []);
  });

  it('sees NeedDaemonReload after an edit without daemon-reload, and a variable the process still has after one is removed', async () => {
    await root(`printf '[Service]\\nUnsetEnvironment=FROM_UNIT\\n' > ${DROP_IN}`);
    assert.strictEqual((await readUnitStatus(conn, UNIT)).needDaemonReload, true, 'systemd has not read the drop-in yet');
    await root('systemctl daemon-reload');
    assert.strictEqual((await readUnitStatus(conn, UNIT)).needDaemonReload, false);
    // Reloaded but not restarted: the process still has what the files no longer give.
    assert.deepStrictEqual(await drift(), ['FROM_UNIT is set in the running process but no longer in the unit files']);
    await root(`systemctl restart ${UNIT}`);
    assert.deepStrictEqual(await drift(), [], 'applied after the restart');
  });
});
