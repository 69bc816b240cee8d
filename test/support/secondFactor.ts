// Turns a test node's keyboard-interactive second factor on and off for its needpw user, with
// OpenSSH as the judge, for tests in plain Node and in the extension host alike.
import { execFile } from 'child_process';
import { until } from './until';

/** What a test needs of a node: its private ssh_config and the Host aliases in it. */
export interface NodeSshAccess {
  sshConfigPath: string;
  sshHosts: { root: string; needsPassword: string };
}

const DROP_IN = '/etc/ssh/sshd_config.d/05-krd-second-factor.conf';

/** needpw must give a key and then PAM's password prompt; root and the other users are not affected. */
const SECOND_FACTOR = [
  'Match User needpw',
  '  AuthenticationMethods publickey,keyboard-interactive',
  '  KbdInteractiveAuthentication yes',
  '',
].join('\n');

function ssh(node: NodeSshAccess, host: string, args: string[]): Promise<{ ok: boolean; stderr: string }> {
  return new Promise((resolve) =>
    execFile('ssh', ['-F', node.sshConfigPath, '-o', 'BatchMode=yes', host, ...args], { timeout: 30_000 }, (err, _stdout, stderr) =>
      resolve({ ok: !err, stderr: String(stderr) || (err ? String(err) : '') }),
    ),
  );
}

/** What OpenSSH says when needpw logs in with the key alone: '' when it gets in, else its stderr. */
export async function keyOnlyLogin(node: NodeSshAccess): Promise<string> {
  const r = await ssh(node, node.sshHosts.needsPassword, ['true']);
  return r.ok ? '' : r.stderr;
}

/**
 * Turns the second factor on or off: writes (or removes) an sshd drop-in, checks the whole config and
 * reloads sshd. The reload is a SIGHUP that sshd acts on after systemctl returns, so it waits until a
 * key-only login of needpw shows the new setting (refused for want of keyboard-interactive when on,
 * accepted when off).
 */
export async function setSecondFactor(node: NodeSshAccess, on: boolean): Promise<void> {
  const write = on ? `printf '%s' '${SECOND_FACTOR}' > ${DROP_IN}` : `rm -f ${DROP_IN}`;
  const r = await ssh(node, node.sshHosts.root, [`${write} && sshd -t && systemctl reload ssh`]);
  if (!r.ok) {
    throw new Error(`sshd reconfiguration failed: ${r.stderr}`);
  }
  // While sshd restarts, logins fail with "Connection refused"; only its answer counts.
  await until(
    `sshd to ${on ? 'ask' : 'stop asking'} for a second factor`,
    async () => {
      const said = await keyOnlyLogin(node);
      return (on ? /Permission denied \(keyboard-interactive\)/.test(said) : said === '') ? true : undefined;
    },
    15_000,
  );
}
