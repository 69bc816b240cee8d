// Fast checks of the environment-file parser and the ExecStart expander. The expected values are what
// systemd 252 produced on the test node for the same input; test/e2e/effectiveCommand.test.ts compares
// against systemd itself.
import * as assert from 'assert';
import { readFileSync } from 'fs';
import * as path from 'path';
import {
  computeEffectiveCommand,
  EffectiveCommandError,
  UnitWouldNotStartError,
  expandSpecifiers,
  expandVariables,
  extractWords,
  nodeSpecifiers,
  parseExecWords,
} from '../../src/systemd/effectiveCommand';
import { EnvironmentFileError, parseEnvironmentFile } from '../../src/systemd/environmentFile';

const unit = (...service: string[]) => ({ path: '/etc/systemd/system/x.service', text: ['[Service]', ...service, ''].join('\n') });
const noFiles = async () => undefined;

describe('environment files', () => {
  it('reads keys, comments, quotes, escapes and continuations as systemd does', () => {
    const text = readFileSync(path.join(__dirname, '..', '..', '..', 'test', 'fixtures', 'env', 'tricky.env'), 'utf8');
    assert.deepStrictEqual(Object.fromEntries(parseEnvironmentFile(text)), {
      LEAD: 'spaced value',
      EQ: 'around',
      SQ: 'single $x \\n "dq"',
      DQ: 'double "q" $x \\ \\n end',
      UQ: 'un quoted"x41 tail',
      CONT: 'line1 line2',
      DQCONT: 'ab',
      SQNL: 'multi\nline',
      MIX: 'ab"c d" e',
      GLUED: 'ab',
      Q1: 'xy',
      EMPTY: '',
      EMPTYQ: '',
      HASH: 'a#b ;c',
      V: 'a=b=c',
      DUP: '2',
      CR: 'cr',
      TAB: 'tabbed\tvalue',
      LAST: 'no newline',
    });
  });

  it('refuses a file systemd cannot load: invalid UTF-8 in a key or value, a noncharacter, a NUL byte', () => {
    const bytes = (...parts: (string | number[])[]) =>
      Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p))));
    const refused: [Buffer, RegExp, string][] = [
      [bytes('A=ok\nB=bad', [0xff], '\n'), /line 2: the value of "B" is not valid UTF-8/, 'Invalid argument'],
      [bytes('A=ok\nB', [0xff], '=1\n'), /line 2: the key "B\\xff" is not valid UTF-8/, 'Invalid argument'],
      [bytes('export X', [0xc3], '=1\n'), /line 1: the key/, 'Invalid argument'], // even a name systemd would drop
      [bytes('N=', [0xef, 0xbf, 0xbe], '\n'), /value of "N"/, 'Invalid argument'], // U+FFFE, valid UTF-8 but not to systemd
      [bytes('N=', [0xc0, 0xaf], '\n'), /value of "N"/, 'Invalid argument'], // overlong "/"
      [bytes('N=', [0xed, 0xa0, 0x80], '\n'), /value of "N"/, 'Invalid argument'], // a UTF-16 surrogate
      [bytes('N="multi\nline', [0xe9], '"\n'), /line 1: the value of "N"/, 'Invalid argument'],
      [bytes('A=1\nB=x', [0], 'y\n'), /line 2 holds a NUL byte/, 'Bad message'],
    ];
    for (const [input, message, systemdError] of refused) {
      assert.throws(
        () => parseEnvironmentFile(input),
        (err: unknown) => err instanceof EnvironmentFileError && message.test(err.message) && err.systemdError === systemdError,
        JSON.stringify(input.toString('latin1')),
      );
    }
  });

  it('takes valid UTF-8 of every length, and bad bytes inside a comment', () => {
    const input = Buffer.concat([Buffer.from('# caf'), Buffer.from([0xe9, 0xff]), Buffer.from('\nA=caf\u00e9 \u20ac \u{1F600}\n')]);
    assert.deepStrictEqual(Object.fromEntries(parseEnvironmentFile(input)), { A: 'caf\u00e9 \u20ac \u{1F600}' });
  });

  it('keeps an unterminated quote to the end of the file', () => {
    assert.deepStrictEqual(Object.fromEntries(parseEnvironmentFile('W="open\nX=1\n')), { W: 'open\nX=1\n' });
  });
});

describe('ExecStart words and expansion', () => {
  it('unquotes and C-unescapes like extract_first_word, keeping unknown escapes', () => {
    assert.deepStrictEqual(parseExecWords(`-@/bin/x a"b c"d 's\\tq' "d\\x41" \\101 \\u00e9 \\s \\; "x\\;" \\\\ \\q a\\ b`), {
      prefixes: '-@',
      words: ['/bin/x', 'ab cd', 's\tq', 'dA', 'A', 'é', ' ', ';', 'x\\;', '\\', '\\q', 'a\\ b'],
    });
    assert.deepStrictEqual(parseExecWords('/bin/a x ; /bin/b y').words, ['/bin/a', 'x']);
    assert.deepStrictEqual(parseExecWords('!!/bin/a').prefixes, '!!');
  });

  it('splits a whole-word $VAR, keeps ${VAR} as one word, and leaves $VAR inside a word alone', () => {
    const env = new Map([
      ['A', 'x y'],
      ['Q', `"x y" z\\ w 's q'`],
      ['E', ''],
    ]);
    const expand = (w: string) => expandVariables(w, env);
    assert.deepStrictEqual(
      ['$A', '${A}', '$U', '${U}', '$E', '${E}', '$$', '$', 'a$A', '${A}x', '$A.', '$${A}', '$$A', '${A:-x}', '${A'].map(expand),
      [['x', 'y'], ['x y'], [], [''], [], [''], ['$'], [], ['a$A'], ['x yx'], [], ['${A}'], ['$A'], ['${A:-x}'], ['${A']],
    );
    assert.deepStrictEqual(expand('$Q'), ['x y', 'z w', 's q']);
    assert.deepStrictEqual(extractWords(`A="1 2" 'B=x' C=\\x41 D=\\q E=5`, 'environ'), ['A=1 2', 'B=x', 'C=A']);
    assert.deepStrictEqual(extractWords(`\\q`, 'exec'), ['\\q']);
  });

  it('expands the name, path and node specifiers, and refuses unknown ones', () => {
    assert.strictEqual(
      expandSpecifiers('%% %n %N %p %i %j %f %t %u', 'krd-9-a-b.service'),
      '% krd-9-a-b.service krd-9-a-b krd-9-a-b  b /krd/9/a/b /run root',
    );
    assert.strictEqual(expandSpecifiers('%p|%i|%I|%f', 'getty@tty\\x2d1.service'), 'getty|tty\\x2d1|tty-1|/tty-1');
    assert.throws(() => expandSpecifiers('%H', 'x.service'), EffectiveCommandError);
    const node = nodeSpecifiers({ H: 'node-1.example\n', m: '0123abcd\n', b: '8c3e-41\n', v: '6.1.0\n' });
    assert.strictEqual(
      expandSpecifiers('%H %l %m %b %v %s', 'x.service', { ...node, s: '/bin/sh' }),
      'node-1.example node-1 0123abcd 8c3e41 6.1.0 /bin/sh',
    );
  });
});

describe('effective command', () => {
  it("applies kubeadm's drop-in: ExecStart reset, Environment, env files over Environment", async () => {
    const files = [
      unit('Environment=KUBELET_EXTRA_ARGS=--from-unit', 'ExecStart=/usr/bin/kubelet'),
      {
        path: '/etc/systemd/system/kubelet.service.d/10-kubeadm.conf',
        text: [
          '[Service]',
          'Environment="KUBELET_KUBECONFIG_ARGS=--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf --kubeconfig=/etc/kubernetes/kubelet.conf"',
          'Environment="KUBELET_CONFIG_ARGS=--config=/var/lib/kubelet/config.yaml"',
          'EnvironmentFile=-/var/lib/kubelet/kubeadm-flags.env',
          'EnvironmentFile=-/etc/default/kubelet',
          'ExecStart=',
          'ExecStart=/usr/bin/kubelet $KUBELET_KUBECONFIG_ARGS $KUBELET_CONFIG_ARGS $KUBELET_KUBEADM_ARGS $KUBELET_EXTRA_ARGS',
        ].join('\n'),
      },
    ];
    const envFiles: Record<string, string> = {
      '/var/lib/kubelet/kubeadm-flags.env':
        'KUBELET_KUBEADM_ARGS="--container-runtime-endpoint=unix:///var/run/containerd/containerd.sock --pod-infra-container-image=registry.k8s.io/pause:3.9"\n',
    };
    const result = await computeEffectiveCommand('kubelet.service', files, async (p) => envFiles[p]);
    assert.deepStrictEqual(result.argv, [
      '/usr/bin/kubelet',
      '--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf',
      '--kubeconfig=/etc/kubernetes/kubelet.conf',
      '--config=/var/lib/kubelet/config.yaml',
      '--container-runtime-endpoint=unix:///var/run/containerd/containerd.sock',
      '--pod-infra-container-image=registry.k8s.io/pause:3.9',
      '--from-unit',
    ]);
    assert.deepStrictEqual(result.environmentFiles, [
      { path: '/var/lib/kubelet/kubeadm-flags.env', optional: true, missing: false },
      { path: '/etc/default/kubelet', optional: true, missing: true },
    ]);
  });

  it('lets an environment file win over a later Environment= line, then unsets', async () => {
    const files = [
      unit('EnvironmentFile=/e', 'Environment=A=unit B=unit C=unit', 'UnsetEnvironment=C B=other', 'ExecStart=/bin/x $A $C ${C}'),
    ];
    const result = await computeEffectiveCommand('x.service', files, async () => 'A=file\n');
    assert.deepStrictEqual([result.argv, result.env, result.unknownVariables], [['/bin/x', 'file', ''], { A: 'file', B: 'unit' }, ['C']]);
  });

  it('uses the @ word as argv[0], and ":" turns off variable expansion but not specifiers', async () => {
    const a = await computeEffectiveCommand('x.service', [unit('Environment=A=1', 'ExecStart=-@/bin/x name $A')], noFiles);
    assert.deepStrictEqual([a.program, a.argv, a.prefixes], ['/bin/x', ['name', '1'], '-@']);
    assert.deepStrictEqual(a.execStartAsWritten, { text: '-@/bin/x name $A', file: '/etc/systemd/system/x.service', line: 3 });
    const b = await computeEffectiveCommand('x.service', [unit('Environment=A=1', 'ExecStart=:/bin/x $A ${A} $$ %%')], noFiles);
    assert.deepStrictEqual(b.argv, ['/bin/x', '$A', '${A}', '$$', '%']);
  });

  it('says systemd would refuse to start the unit for a required file it cannot load, and skips an optional one whole', async () => {
    const bad = Buffer.from([0x41, 0x3d, 0x31, 0x0a, 0x42, 0x3d, 0xff, 0x0a]); // "A=1\nB=\xff\n"
    const files = (optional: string) => [unit('Environment=A=unit', `EnvironmentFile=${optional}/e/bad.env`, 'ExecStart=/bin/x $A $B')];
    await assert.rejects(
      computeEffectiveCommand('x.service', files(''), async () => bad),
      (err: unknown) =>
        err instanceof UnitWouldNotStartError &&
        /systemd would refuse to start x\.service \("Invalid argument"\): \/e\/bad\.env line 2: the value of "B" is not valid UTF-8/.test(
          (err as Error).message,
        ),
    );
    const skipped = await computeEffectiveCommand('x.service', files('-'), async () => bad);
    assert.deepStrictEqual(skipped.argv, ['/bin/x', 'unit'], "none of the file's variables, not even the valid A=1");
    assert.deepStrictEqual(skipped.environmentFiles, [
      { path: '/e/bad.env', optional: true, missing: false, ignored: 'line 2: the value of "B" is not valid UTF-8' },
    ]);
  });

  it('fails clearly on a missing required environment file, a missing ExecStart or a glob', async () => {
    await assert.rejects(
      computeEffectiveCommand('x.service', [unit('EnvironmentFile=/nope', 'ExecStart=/bin/x')], noFiles),
      (err: unknown) => err instanceof UnitWouldNotStartError && /\/nope does not exist/.test((err as Error).message),
    );
    await assert.rejects(computeEffectiveCommand('x.service', [unit('ExecStart=/bin/x', 'ExecStart=')], noFiles), /no ExecStart/);
    await assert.rejects(
      computeEffectiveCommand('x.service', [unit('EnvironmentFile=-/etc/x/*.env', 'ExecStart=/bin/x')], noFiles),
      /glob pattern/,
    );
  });
});
