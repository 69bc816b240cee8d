// What the openssh transport says when its master fails: OpenSSH's own words (samples from OpenSSH
// 9.2) mapped to the errors the ssh2 transport gives, never blaming HostName or Port for a refused
// login, a proxy or a jump host.
import * as assert from 'assert';
import { ErrorCode } from '../../src/common/errors';
import { masterFailure } from '../../src/ssh/opensshTransport';
import type { ResolvedHost } from '../../src/ssh/sshConfig';

const direct = { alias: 'node-1', hostName: '10.0.0.5', port: 22, user: 'root', proxyJump: [] } as unknown as ResolvedHost;

describe('openssh transport: master failures', () => {
  it('a refused login is about logging in, not the address', () => {
    const err = masterFailure(direct, 'root@10.0.0.5: Permission denied (publickey).\r\n', 10);
    assert.strictEqual(err.code, ErrorCode.OpensshFailed);
    assert.match(err.message, /could not log in to node-1: root@10\.0\.0\.5: Permission denied \(publickey\)/);
    assert.doesNotMatch(err.message, /HostName|Port/);
  });

  it('host keys: refused under strict checking, and a changed key with its file and line', () => {
    const strict = masterFailure(
      direct,
      'No ED25519 host key is known for 10.0.0.5 and you have requested strict checking.\r\nHost key verification failed.\r\n',
      10,
    );
    assert.strictEqual(strict.code, ErrorCode.HostKeyUnknownRejected);
    const changed = masterFailure(
      direct,
      [
        '@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @',
        'The fingerprint for the ED25519 key sent by the remote host is',
        'SHA256:b7fLWCv1vKDht6RIZWNQ2TQsD6BjBtnewtWupoAKhcc.',
        'Add correct host key in /home/me/.ssh/known_hosts to get rid of this message.',
        'Offending ED25519 key in /home/me/.ssh/known_hosts:7',
        'Host key verification failed.',
      ].join('\r\n'),
      10,
    );
    assert.strictEqual(changed.code, ErrorCode.HostKeyChanged);
    assert.match(changed.message, /SHA256:b7fLWCv1vKDht6RIZWNQ2TQsD6BjBtnewtWupoAKhcc\)?.*known_hosts:7/);
  });

  it('a jump host that cannot reach the target names both, and a ProxyCommand is blamed with its own words', () => {
    const jumped = { ...direct, proxyJump: [{ alias: 'bastion' }] } as unknown as ResolvedHost;
    const jump = masterFailure(
      jumped,
      'channel 0: open failed: connect failed: No route to host\r\nstdio forwarding failed\r\nConnection closed by UNKNOWN port 65535\r\n',
      10,
    );
    assert.strictEqual(jump.code, ErrorCode.ProxyJumpFailed);
    assert.match(jump.message, /bastion.*10\.0\.0\.5:22.*No route to host/);
    const proxied = { ...direct, proxyCommand: 'tsh proxy ssh %r@%h:%p' } as ResolvedHost;
    const proxy = masterFailure(
      proxied,
      'bastion says no to 10.0.0.5:22\r\nkex_exchange_identification: Connection closed by remote host\r\nConnection closed by UNKNOWN port 65535\r\n',
      10,
    );
    assert.strictEqual(proxy.code, ErrorCode.ProxyCommandFailed);
    assert.match(proxy.message, /bastion says no to 10\.0\.0\.5:22/);
    for (const err of [jump, proxy]) {
      assert.doesNotMatch(err.message, /HostName|Port\b/);
    }
  });

  it('only a direct connection that could not reach the node is about the address', () => {
    assert.strictEqual(
      masterFailure(direct, 'ssh: connect to host 10.0.0.5 port 22: Connection refused\r\n', 10).code,
      ErrorCode.HostUnreachable,
    );
  });
});
