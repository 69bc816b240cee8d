// ProxyCommand tokens checked against OpenSSH: the same config line, run once by `ssh` and once by us,
// must leave the same text behind.
import * as assert from 'assert';
import { execFile } from 'child_process';
import { readFileSync, rmSync, writeFileSync } from 'fs';
import * as path from 'path';
import { ErrorCode } from '../../src/common/errors';
import type { Logger } from '../../src/common/logger';
import { expandProxyCommand, startProxyCommand } from '../../src/ssh/proxyCommand';
import { SshConfigResolver } from '../../src/ssh/sshConfig';
import { removeTempDir, tempDir } from '../support/tempDirs';

const quiet: Logger = { trace() {}, debug() {}, info() {}, warn() {}, error() {} };

describe('ProxyCommand tokens', () => {
  let dir: string;
  let config: string;
  let out: string;

  before(() => {
    dir = tempDir('proxycmd');
    out = path.join(dir, 'expanded');
    config = path.join(dir, 'config');
    writeFileSync(
      config,
      [
        'Host tok',
        '  HostName 10.0.0.9',
        '  Port 2201',
        '  User ruser',
        // The inner shell keeps the pipe to ssh open until the file is written, so ssh cannot end first.
        `  ProxyCommand sh -c "echo 'h=%h p=%p r=%r n=%n k=%k pct=%% end' > ${out}"`,
        '',
      ].join('\n'),
    );
  });
  after(() => removeTempDir(dir));

  for (const spec of ['tok', 'other@tok', 'other@tok:2022']) {
    it(`expands %h %p %r %n %k %% as ssh does for ${spec}`, async () => {
      const [user, rest] = spec.includes('@') ? spec.split('@') : [undefined, spec];
      const [host, port] = rest.split(':');
      rmSync(out, { force: true });
      // ssh runs the command, reads nothing from it and gives up (exit 255): only the file matters.
      await new Promise<void>((resolve) =>
        execFile(
          'ssh',
          ['-F', config, '-o', 'BatchMode=yes', ...(user ? ['-l', user] : []), ...(port ? ['-p', port] : []), host, 'true'],
          { timeout: 30_000 },
          () => resolve(),
        ),
      );
      const bySsh = readFileSync(out, 'utf8');
      rmSync(out);
      const resolved = await new SshConfigResolver({ userConfigFile: config, systemConfigFile: '/nonexistent', env: {} }).resolve(spec);
      const proxy = startProxyCommand(resolved.proxyCommand!, resolved, quiet);
      await proxy.exited;
      assert.strictEqual(readFileSync(out, 'utf8'), bySsh);
      assert.match(bySsh, new RegExp(`^h=10\\.0\\.0\\.9 p=${port ?? 2201} r=${user ?? 'ruser'} n=tok k=tok pct=% end\n$`));
    });
  }

  it('refuses a token ProxyCommand does not take, naming it', () => {
    assert.throws(
      () => expandProxyCommand('nc %h %d', { alias: 'x', hostName: 'h', port: 22, user: 'u' }),
      (err: Error & { code?: string }) => err.code === ErrorCode.ProxyCommandFailed && err.message.includes('%d'),
    );
  });
});
