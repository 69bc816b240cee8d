// dlvFlags, showLog and logOutput: what may reach the `dlv exec` line, and how it is written there.
import * as assert from 'assert';
import { buildDebugDropIn } from '../../src/debug/debugDropIn';
import { delveFlagsFor, dlvFlagProblems, logOutputProblems } from '../../src/debug/delveFlags';
import { computeEffectiveCommand } from '../../src/systemd/effectiveCommand';

describe('Delve flags from the launch configuration', () => {
  it('puts showLog and logOutput first, then dlvFlags as written', () => {
    assert.deepStrictEqual(delveFlagsFor({ dlvFlags: ['--check-go-version=false'], showLog: true, logOutput: 'debugger,dap' }), [
      '--log',
      '--log-output=debugger,dap',
      '--check-go-version=false',
    ]);
    assert.deepStrictEqual(
      delveFlagsFor({ dlvFlags: [], showLog: false, logOutput: 'dap' }),
      [],
      'logOutput alone does nothing, as in Delve',
    );
  });

  it('refuses every flag the session depends on, naming why', () => {
    const cases: [string, RegExp][] = [
      ['--listen=0.0.0.0:2345', /--listen: Delve must listen on the node's loopback/],
      ['-l=:2345', /-l: Delve must listen/],
      ['--headless=false', /--headless/],
      ['--accept-multiclient=false', /--accept-multiclient/],
      ['--api-version=1', /--api-version/],
      ['--only-same-user=false', /any local user on the node/],
      ['--log', /use "showLog"/],
      ['--log-output=rpc', /use "logOutput"/],
      ['-h', /print its help and exit/],
    ];
    for (const [flag, reason] of cases) {
      const problems = dlvFlagProblems([flag]);
      assert.strictEqual(problems.length, 1, `${flag}: ${problems.join(' ')}`);
      assert.match(problems[0], reason);
    }
  });

  it('refuses words that are not one flag: a program name, "--", a value in its own item, a long flag with one dash', () => {
    for (const word of ['/usr/bin/kubelet', '--', 'rr', '--backend rr', '-listen=:1', '-rstdout:/x', '']) {
      assert.strictEqual(dlvFlagProblems([word]).length, 1, word);
    }
    assert.match(dlvFlagProblems('--check-go-version=false')[0], /must be a list of strings/);
    assert.match(dlvFlagProblems([3])[0], /must be a list of strings/);
  });

  it('accepts ordinary flags, values with anything in them included', () => {
    assert.deepStrictEqual(
      dlvFlagProblems([
        '--check-go-version=false',
        '--disable-aslr',
        '--backend=default',
        '-r=stdout:/tmp/out',
        '--init=/a b/$HOME %n "x"',
        '--log-dest=/tmp/dlv.log',
        '--continue',
      ]),
      [],
    );
  });

  it("checks logOutput against Delve's components", () => {
    assert.deepStrictEqual(logOutputProblems('debugger,dap,rpc,stack'), []);
    assert.match(logOutputProblems('debugger,dapp')[0], /unknown component "dapp"/);
    assert.match(logOutputProblems('debugger, dap')[0], /unknown component " dap"/);
    assert.strictEqual(logOutputProblems('').length, 1);
  });

  it('writes the flags into the drop-in so systemd hands Delve each one unchanged', async () => {
    // The same systemd word rules the e2e tests check against systemd 252 itself.
    const flag = '--init=/a dir/$HOME/%n "x" \\ y';
    const text = buildDebugDropIn({
      execStart: '/usr/bin/kubelet $KUBELET_ARGS',
      dlvPath: '/usr/bin/dlv',
      port: 2345,
      remoteBinary: '/var/lib/kubelet-debug/kubelet',
      dlvFlags: ['--log', flag],
      extraArgs: [],
      env: {},
      sessionId: 's',
    });
    const base = {
      path: '/lib/systemd/system/kubelet.service',
      text: '[Service]\nEnvironment=KUBELET_ARGS=--v=2\nExecStart=/usr/bin/kubelet $KUBELET_ARGS\n',
    };
    const { argv } = await computeEffectiveCommand('kubelet.service', [base, { path: '/run/x.conf', text }], async () => undefined);
    assert.deepStrictEqual(argv.slice(argv.indexOf('--accept-multiclient') + 1), [
      '--log',
      flag,
      '/var/lib/kubelet-debug/kubelet',
      '--',
      '--v=2',
    ]);
  });
});
