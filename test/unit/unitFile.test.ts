// The unit-file reader and the debug drop-in built from it.
import * as assert from 'assert';
import { readFileSync } from 'fs';
import * as path from 'path';
import { buildDebugDropIn } from '../../src/debug/debugDropIn';
import {
  effectiveList,
  effectiveValue,
  mergeUnitFiles,
  parseUnitFile,
  quoteUnitWord,
  splitExecLine,
  UnitFileSyntaxError,
} from '../../src/systemd/unitFile';

const root = path.resolve(__dirname, '..', '..', '..');
const KUBEADM = readFileSync(path.join(root, 'test', 'fixtures', 'units', 'kubelet.service.d', '10-kubeadm.conf'), 'utf8');
const BASE = ['[Unit]', 'Description=kubelet', '[Service]', 'ExecStart=/usr/bin/kubelet', 'Restart=always', 'RestartSec=10', ''].join('\n');

describe('unit files', () => {
  it("applies kubeadm's drop-in over the base unit: ExecStart= resets", () => {
    const merged = mergeUnitFiles([
      { path: '/lib/systemd/system/kubelet.service', text: BASE },
      { path: '/etc/systemd/system/kubelet.service.d/10-kubeadm.conf', text: KUBEADM },
    ]);
    const exec = effectiveList(merged, 'Service', 'ExecStart');
    assert.deepStrictEqual(
      exec.map((e) => e.value),
      ['/usr/bin/kubelet $KUBELET_KUBECONFIG_ARGS $KUBELET_CONFIG_ARGS $KUBELET_KUBEADM_ARGS $KUBELET_EXTRA_ARGS'],
    );
    assert.strictEqual(exec[0].file, '/etc/systemd/system/kubelet.service.d/10-kubeadm.conf');
    assert.deepStrictEqual(
      effectiveList(merged, 'Service', 'EnvironmentFile').map((e) => e.value),
      ['-/var/lib/kubelet/kubeadm-flags.env', '-/etc/default/kubelet'],
    );
    assert.strictEqual(effectiveValue(merged, 'Service', 'Restart'), 'always');
  });

  it('joins continuation lines and skips comments inside them', () => {
    const a = parseUnitFile(
      ['[Service]', 'ExecStart=/bin/kubelet \\', '# a comment in the middle', '  --v=2 \\', '  --foo', 'User=root'].join('\n'),
    );
    assert.deepStrictEqual(
      a.map((x) => [x.key, x.value]),
      [
        ['ExecStart', '/bin/kubelet    --v=2    --foo'],
        ['User', 'root'],
      ],
    );
  });

  it('refuses malformed files with the file and line', () => {
    assert.throws(
      () => parseUnitFile('[Service]\nExecStart /bin/x\n', '/etc/x.conf'),
      (e: Error) => e instanceof UnitFileSyntaxError && e.message.startsWith('/etc/x.conf:2:'),
    );
    assert.throws(() => parseUnitFile('Environment=A=1\n', 'f'), /before any \[Section\]/);
  });

  it('splits prefixes, program and the untouched rest of an ExecStart', () => {
    assert.deepStrictEqual(splitExecLine('/usr/bin/kubelet $A ${B} "c d"'), {
      prefixes: '',
      program: '/usr/bin/kubelet',
      argv0: undefined,
      rest: '$A ${B} "c d"',
    });
    assert.deepStrictEqual(splitExecLine('-@"/opt/my kubelet" kubelet --v=2'), {
      prefixes: '-@',
      program: '"/opt/my kubelet"',
      argv0: 'kubelet',
      rest: '--v=2',
    });
    assert.throws(() => splitExecLine('-'), /names no program/);
  });

  it('quotes words so $ and % stay literal in ExecStart but $ is left alone in Environment', () => {
    assert.strictEqual(quoteUnitWord('a b$c%d"e\\f'), '"a b$$c%%d\\"e\\\\f"');
    assert.strictEqual(quoteUnitWord('X=$HOME 100%', 'environment'), '"X=$HOME 100%%"');
  });

  it('escapes control characters, so no value can start a line of its own', () => {
    const text = buildDebugDropIn({
      execStart: '/usr/bin/kubelet',
      dlvPath: 'dlv',
      port: 2345,
      remoteBinary: '/var/lib/kubelet-debug/kubelet',
      extraArgs: ['a\rExecStartPre=/bin/touch /tmp/pwned', 'b\u000bc'],
      env: { X: 'x\rExecStartPre=/bin/touch /tmp/pwned\r' },
      sessionId: 's',
    });
    assert.ok(!/[\r\x0b]/.test(text), 'no raw control character reaches the file');
    const keys = parseUnitFile(text.replace(/\r/g, '\n')).map((a) => a.key);
    assert.ok(!keys.includes('ExecStartPre'), keys.join(','));
    assert.throws(() => quoteUnitWord('a\0b'), /NUL/);
  });

  it("builds a debug drop-in that keeps the unit's own arguments for systemd to expand", () => {
    const text = buildDebugDropIn({
      execStart: '/usr/bin/kubelet $KUBELET_KUBECONFIG_ARGS $KUBELET_EXTRA_ARGS',
      dlvPath: '/usr/bin/dlv',
      port: 2345,
      remoteBinary: '/var/lib/kubelet-debug/kubelet',

      extraArgs: ['--v=4', 'odd $arg'],
      env: { GODEBUG: 'x=1', DROP_ME: null },
      sessionId: 'abc',
    });
    const merged = mergeUnitFiles([
      { path: 'base', text: BASE },
      { path: 'debug', text },
    ]);
    assert.deepStrictEqual(
      effectiveList(merged, 'Service', 'ExecStart').map((e) => e.value),
      [
        '"/usr/bin/dlv" exec --headless --listen=127.0.0.1:2345 --api-version=2 --accept-multiclient "/var/lib/kubelet-debug/kubelet" -- $KUBELET_KUBECONFIG_ARGS $KUBELET_EXTRA_ARGS "--v=4" "odd $$arg"',
      ],
    );
    assert.strictEqual(effectiveValue(merged, 'Service', 'Restart'), 'no');
    assert.strictEqual(effectiveValue(merged, 'Service', 'Environment'), '"GODEBUG=x=1"');
    assert.strictEqual(effectiveValue(merged, 'Service', 'UnsetEnvironment'), 'DROP_ME');
    assert.throws(
      () =>
        buildDebugDropIn({
          execStart: '/x',
          dlvPath: 'dlv',
          port: 1,
          remoteBinary: '/y',
          extraArgs: [],
          env: { 'BAD NAME': 'v' },
          sessionId: 's',
        }),
      /not a valid environment variable name/,
    );
  });
});
