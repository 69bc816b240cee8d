// Proves readEffectiveCommand against real systemd: each case installs a throwaway unit whose ExecStart
// is a tiny program printing the argv, working directory and environment it really got, and compares.
import * as assert from 'assert';
import { readFileSync } from 'fs';
import * as path from 'path';
import { EffectiveCommand, readEffectiveCommand, UnitWouldNotStartError } from '../../src/systemd/effectiveCommand';
import { readUnitStatus } from '../../src/systemd/unitStatus';
import type { NodeConnection } from '../../src/ssh/nodeConnection';
import { shellQuote } from '../../src/ssh/shellQuote';
import { connect } from '../support/nodeClient';
import { sharedNode } from './hooks';

const PRINTER = '/usr/local/bin/krd-print-argv';
const RUN_DIR = '/run/krd-argv';
// A compiled program, not a #!/bin/sh script: the kernel replaces argv[0] of a script, and "@" needs it.
const PRINTER_SOURCE = `package main

import "os"

func main() {
	b := []byte{}
	add := func(s string) { b = append(append(b, s...), 0) }
	for _, a := range os.Args {
		add(a)
	}
	cwd, _ := os.Getwd()
	add("--cwd--")
	add(cwd)
	add("--env--")
	for _, e := range os.Environ() {
		add(e)
	}
	add("--end--")
	os.Stdout.Write(b)
}
`;
const FIXTURES = path.resolve(__dirname, '..', '..', '..', 'test', 'fixtures');
const KUBEADM_DROP_IN = readFileSync(path.join(FIXTURES, 'units', 'kubelet.service.d', '10-kubeadm.conf'), 'utf8');

interface Case {
  title: string;
  /** [Service] lines of the fragment, after Type=oneshot and the output redirection. */
  service: string[];
  /** Drop-ins by directory ("etc" or "run") and file name. */
  dropIns?: { dir: 'etc' | 'run'; name: string; text: string }[];
  /** Files under RUN_DIR/<n>/, referred to as @ENV@/<name> in the lines above; bytes where they must be exact. */
  envFiles?: Record<string, string | Buffer>;
  /** The unit name's middle part, for specifier cases; defaults to the case number. */
  suffix?: string;
  /** Installs the fragment as a template and starts this (already escaped) instance of it. */
  instance?: string;
}

const dropIn = (dir: 'etc' | 'run', name: string, ...lines: string[]) => ({ dir, name, text: ['[Service]', ...lines, ''].join('\n') });
const exec = (rest: string) => `ExecStart=${PRINTER} ${rest}`;
/** kubeadm's drop-in as shipped, with its files moved under the case's folder and the printer as kubelet. */
const kubeadmDropIn = (defaults: string) => ({
  dir: 'etc' as const,
  name: '10-kubeadm.conf',
  text: KUBEADM_DROP_IN.replace('/var/lib/kubelet/kubeadm-flags.env', '@ENV@/kubeadm-flags.env')
    .replace('/etc/default/kubelet', `@ENV@/${defaults}`)
    .replace('/usr/bin/kubelet', PRINTER),
});

const CASES: Case[] = [
  {
    title: "kubeadm's real 10-kubeadm.conf with kubeadm-flags.env and /etc/default/kubelet",
    service: [`ExecStart=${PRINTER}`, 'Restart=no'],
    dropIns: [kubeadmDropIn('kubelet')],
    envFiles: {
      'kubeadm-flags.env':
        'KUBELET_KUBEADM_ARGS="--container-runtime-endpoint=unix:///var/run/containerd/containerd.sock --pod-infra-container-image=registry.k8s.io/pause:3.9"\n',
      kubelet: 'KUBELET_EXTRA_ARGS=--v=4 --node-ip=10.0.0.7\n',
    },
  },
  {
    title: 'kubeadm shape without /etc/default/kubelet (optional file missing)',
    service: [`ExecStart=${PRINTER}`],
    dropIns: [kubeadmDropIn('absent')],
    envFiles: { 'kubeadm-flags.env': 'KUBELET_KUBEADM_ARGS=--foo=1\n' },
  },
  { title: '$VAR with several words is split', service: ['Environment="A=one  two\tthree"', exec('$A end')] },
  { title: '${VAR} with spaces stays one word, also glued to text', service: ['Environment="A=x y"', exec('${A} pre${A}post ${A}${A}')] },
  { title: 'unset $VAR yields no word, unset ${VAR} an empty one', service: [exec('a $NOPE b ${NOPE} c')] },
  { title: 'an empty $VAR yields no word, an empty ${VAR} an empty one', service: ['Environment=E=', exec('$E ${E}')] },
  {
    title: '$$, $$VAR, $${VAR}, a lone $ and $ inside a word',
    service: ['Environment=A=1', exec('$$ $$A $${A} $ a$A $A. ${A:-x} ${A "$$"')],
  },
  { title: '"$VAR" and \'$VAR\' are unquoted first, then split', service: ['Environment="A=x y"', exec(`"$A" '$A' "\\$A" \\$A`)] },
  {
    title: '$VAR values are split with their own quotes and backslashes',
    service: [`Environment='Q="x y" z\\\\ w \\'s q\\''`, exec('$Q ${Q} $OPEN')],
    dropIns: [dropIn('etc', '10-open.conf', `Environment='OPEN=x "y z'`)],
  },
  {
    title: '%% and the unit-name and path specifiers, in ExecStart, Environment= and EnvironmentFile=',
    suffix: 'spec-a-b',
    service: [
      'Environment="N=%n %% %H"',
      'EnvironmentFile=@ENV@/%p.env',
      exec('%% %n %N %p %i %j %J %f %t %S %C %L %E %T %V %u %U %g %G %h %H %l %m %b %v 100%% $N $F'),
    ],
    envFiles: { 'krd-argv-spec-a-b.env': 'F=from %p file\n' },
  },
  {
    title: 'template instance specifiers %i %I %f %p %P',
    suffix: 'tmpl',
    instance: 'a\\x2db-c',
    service: [exec('%n %N %p %P %i %I %f %j')],
  },
  {
    title: 'quotes and escapes in Environment=',
    service: [`Environment="A=double quoted" 'B=single quoted' C=x\\ty D=\\x41 "E=a\\"b"`, exec('${A} ${B} ${C} ${D} ${E}')],
  },
  {
    title: 'two assignments on one line; a later Environment= overrides',
    service: ['Environment=A=1 B=2', 'Environment=B=3 C=4', exec('$A $B $C')],
  },
  {
    title: 'Environment= in a drop-in overrides the fragment; empty Environment= resets',
    service: ['Environment=A=frag B=frag'],
    dropIns: [
      dropIn('etc', '10-a.conf', 'Environment=', 'Environment=C=drop'),
      dropIn('etc', '20-b.conf', 'Environment=A=late', exec('$A ${B} $C')),
    ],
  },
  {
    title: 'EnvironmentFile= wins over Environment=, even a later one',
    service: ['EnvironmentFile=@ENV@/a.env', 'Environment=A=unit B=unit', exec('$A $B')],
    envFiles: { 'a.env': 'A=file\n' },
  },
  {
    title: 'a later environment file wins; a missing optional one is skipped',
    service: ['EnvironmentFile=@ENV@/1.env', 'EnvironmentFile=-@ENV@/missing.env', 'EnvironmentFile=@ENV@/2.env', exec('$A $B $C')],
    envFiles: { '1.env': 'A=1\nB=1\n', '2.env': 'B=2\nC=2\n' },
  },
  {
    title: 'environment file with comments, quotes, continuations and escapes',
    service: ['EnvironmentFile=@ENV@/tricky.env', exec('$LEAD $SQ $DQ $UQ $CONT $DQCONT $MIX $GLUED ${EMPTY} $HASH $TAB $LAST')],
    envFiles: { 'tricky.env': readFileSync(path.join(FIXTURES, 'env', 'tricky.env'), 'utf8') },
  },
  {
    title: 'an unterminated quote in an environment file runs to the end',
    service: ['EnvironmentFile=@ENV@/open.env', exec('${W}')],
    envFiles: { 'open.env': 'W="open\nX=1\n' },
  },
  {
    title:
      'optional environment files systemd cannot load (invalid UTF-8, a noncharacter, a NUL) are skipped whole; bad bytes in a comment are not',
    service: [
      'Environment=A=unit B=unit',
      'EnvironmentFile=-@ENV@/bad.env',
      'EnvironmentFile=-@ENV@/nonchar.env',
      'EnvironmentFile=-@ENV@/nul.env',
      'EnvironmentFile=-@ENV@/comment.env',
      exec('$A $B $C $D $E'),
    ],
    envFiles: {
      'bad.env': Buffer.concat([Buffer.from('A=from-bad\nB=x'), Buffer.from([0xff]), Buffer.from('\n')]),
      'nonchar.env': Buffer.concat([Buffer.from('C=x'), Buffer.from([0xef, 0xbf, 0xbe]), Buffer.from('\n')]),
      'nul.env': Buffer.concat([Buffer.from('D=1\nE=x'), Buffer.from([0]), Buffer.from('y\n')]),
      'comment.env': Buffer.concat([Buffer.from('# caf'), Buffer.from([0xe9]), Buffer.from('\nE=caf\u00e9\n')]),
    },
  },
  {
    title: 'ExecStart= in a drop-in resets the command',
    service: [exec('from fragment')],
    dropIns: [dropIn('etc', '50-reset.conf', 'ExecStart=', exec('from drop-in'))],
  },
  { title: 'prefix "-"', service: [`ExecStart=-${PRINTER} minus`] },
  { title: 'prefix "@" sets argv[0]', service: ['Environment=N=name', `ExecStart=@${PRINTER} my-argv0 --flag $N`] },
  {
    title: 'prefix ":" turns off variable expansion but not specifiers',
    service: ['Environment="A=x y"', `ExecStart=:${PRINTER} $A \${A} $$ %% %n`],
  },
  { title: 'prefixes "-@" combined, with "+"', service: ['Environment=A=1', `ExecStart=+-@${PRINTER} zero $A`] },
  {
    title: 'C escapes: \\t \\x41 \\101 \\u00e9 \\s \\\\ and unknown ones kept',
    service: [exec('a\\tb \\x41 \\101 \\u00e9 \\s \\\\ \\q a\\ b "\\$"')],
  },
  { title: 'single quotes in ExecStart, with escapes inside', service: [exec(`'one word' 's\\tq' 'a "b" c'`)] },
  { title: 'a word with quoted and unquoted parts', service: [exec(`a"b c"d x'y z'"w" ""'' e""f`)] },
  { title: 'tabs separate words; a tab inside quotes stays', service: [exec('a\tb\t\t"c\td"')] },
  {
    title: 'UnsetEnvironment= by name, and NAME=VALUE only when the value matches',
    service: ['Environment=A=1 B=2 C=3 D=4', 'UnsetEnvironment=A B=2 C=wrong', exec('$A ${A} $B $C $D')],
  },
  {
    title: 'UnsetEnvironment= also removes a variable from an environment file',
    service: ['EnvironmentFile=@ENV@/u.env', 'UnsetEnvironment=F', exec('$F ${F} $G')],
    envFiles: { 'u.env': 'F=file\nG=kept\n' },
  },
  {
    title: 'drop-ins are applied by file name across /etc and /run; /etc hides the same name in /run',
    service: ['Environment=ORDER=frag'],
    dropIns: [
      dropIn('run', '10-run.conf', 'Environment=ORDER=run10 R=1', exec('$ORDER $R $E $S')),
      dropIn('etc', '20-etc.conf', 'Environment=ORDER=etc20 E=1'),
      dropIn('run', '30-run.conf', 'Environment=ORDER=run30'),
      dropIn('etc', '25-same.conf', 'Environment=S=etc'),
      dropIn('run', '25-same.conf', 'Environment=S=run'),
    ],
  },
  { title: '"\\;" is a literal word, a lone ";" starts a second command', service: [exec('a \\; "x\\;" b ; ' + PRINTER + ' second')] },
  {
    title: 'an unknown escape in Environment= or UnsetEnvironment= drops the rest of that line',
    service: ['Environment=A=1 B=\\q C=3', 'Environment=D=4', 'UnsetEnvironment=D \\q A', exec('$A $B $C $D')],
  },
  {
    title: 'invalid names in Environment= are skipped, the rest of the line kept',
    service: ['Environment=A.B=1 1A=2 OK=3 =4', exec('$OK')],
  },
  {
    title: 'continuation lines in ExecStart with a comment inside',
    service: [`ExecStart=${PRINTER} one \\`, '# a comment inside', '  two \\', '  three'],
  },
  { title: 'WorkingDirectory=- on a directory that exists', service: ['WorkingDirectory=-/var/tmp', exec('x')] },
  {
    title: "WorkingDirectory= and User=; %u and %h stay the manager's",
    service: ['WorkingDirectory=/tmp', 'User=nobody', 'Environment=A=1', exec('$A %u %h')],
  },
];

interface Observed {
  argv: string[];
  cwd: string;
  env: Record<string, string>;
}

/** The printer's first record (a second command of the same line appends another one). */
function parsePrinted(bytes: Buffer): Observed {
  const fields = bytes.toString('utf8').split('\0');
  const cwdAt = fields.indexOf('--cwd--');
  const envAt = fields.indexOf('--env--');
  const endAt = fields.indexOf('--end--');
  assert.ok(cwdAt > 0 && envAt > cwdAt && endAt > envAt, `printer output is malformed: ${JSON.stringify(fields.slice(0, 40))}`);
  const env: Record<string, string> = {};
  for (const e of fields.slice(envAt + 1, endAt)) {
    const eq = e.indexOf('=');
    env[e.slice(0, eq)] = e.slice(eq + 1);
  }
  return { argv: fields.slice(0, cwdAt), cwd: fields[cwdAt + 1], env };
}

describe('Effective ExecStart against real systemd', function () {
  this.timeout(180_000);
  let conn: NodeConnection;
  /** Variables systemd itself adds to every service, found from a unit that defines none. */
  let managerNames: Set<string>;
  /** Unit files written (templates included) and units started, for the cleanup. */
  const unitFiles: string[] = [];
  const started: string[] = [];

  async function root(command: string): Promise<string> {
    const r = await sharedNode().ssh(command);
    assert.strictEqual(r.code, 0, `${command.slice(0, 200)}\n${r.stderr}`);
    return r.stdout;
  }

  const writeFile = (file: string, content: string | Buffer) =>
    `mkdir -p ${shellQuote(path.posix.dirname(file))} && printf %s ${Buffer.from(content).toString('base64')} | base64 -d > ${shellQuote(file)}`;

  /** Installs, starts and reads one case's unit; returns the unit name and what the printer saw. */
  async function runCase(name: string, c: Case): Promise<{ unit: string; observed: Observed }> {
    const file = c.instance === undefined ? `krd-argv-${name}.service` : `krd-argv-${name}@.service`;
    const unit = c.instance === undefined ? file : `krd-argv-${name}@${c.instance}.service`;
    unitFiles.push(file);
    started.push(unit);
    const envDir = `${RUN_DIR}/${name}`;
    const out = `${RUN_DIR}/${name}.out`;
    const fill = (text: string) => text.replace(/@ENV@/g, envDir);
    const fragment = ['[Service]', 'Type=oneshot', 'RemainAfterExit=no', `StandardOutput=append:${out}`, ...c.service.map(fill), ''].join(
      '\n',
    );
    const steps = [
      `rm -rf ${envDir} ${out} && mkdir -p ${RUN_DIR}`,
      writeFile(`/etc/systemd/system/${file}`, fragment),
      ...(c.dropIns ?? []).map((d) => writeFile(`/${d.dir}/systemd/system/${file}.d/${d.name}`, fill(d.text))),
      ...Object.entries(c.envFiles ?? {}).map(([f, content]) => writeFile(`${envDir}/${f}`, content)),
      'systemctl daemon-reload',
      `systemctl start ${shellQuote(unit)}`,
      `base64 -w0 ${out}`,
    ];
    const printed = await root(steps.join(' && '));
    return { unit, observed: parsePrinted(Buffer.from(printed, 'base64')) };
  }

  /** What of the process's environment the unit defined: everything but systemd's own additions. */
  function unitDefined(observed: Observed, computed: EffectiveCommand): Record<string, string> {
    return Object.fromEntries(Object.entries(observed.env).filter(([k]) => !managerNames.has(k) || k in computed.env));
  }

  before(async () => {
    conn = connect(sharedNode());
    await root(
      `mkdir -p /tmp/krd-print-argv && cd /tmp/krd-print-argv && ${writeFile('main.go', PRINTER_SOURCE)} && ${writeFile('go.mod', 'module krdprint\n\ngo 1.19\n')} && go build -o ${PRINTER} .`,
    );
    const { observed } = await runCase('baseline', { title: 'baseline', service: [`ExecStart=${PRINTER}`] });
    // Added with User=, with output to the journal (the kubelet), and for Type=notify.
    managerNames = new Set([
      ...Object.keys(observed.env),
      'HOME',
      'USER',
      'LOGNAME',
      'SHELL',
      'JOURNAL_STREAM',
      'NOTIFY_SOCKET',
      'WATCHDOG_PID',
      'WATCHDOG_USEC',
    ]);
  });

  after(async () => {
    conn?.disconnect();
    const paths = unitFiles.flatMap((f) => [`/etc/systemd/system/${f}`, `/etc/systemd/system/${f}.d`, `/run/systemd/system/${f}.d`]);
    const cleanup = `systemctl stop ${started.map(shellQuote).join(' ')}; rm -rf ${[...paths, RUN_DIR, PRINTER, '/tmp/krd-print-argv'].map(shellQuote).join(' ')}; systemctl daemon-reload && ls -d /etc/systemd/system/krd-argv-* /run/systemd/system/krd-argv-* ${RUN_DIR} 2>/dev/null`;
    const result = await sharedNode().ssh(cleanup);
    assert.strictEqual(result.stdout, '', 'nothing of the cases is left on the node');
  });

  it(`has at least 25 cases (${CASES.length})`, () => {
    assert.ok(CASES.length >= 25);
  });

  CASES.forEach((c, i) => {
    it(`${i + 1}. ${c.title}`, async () => {
      const { unit, observed } = await runCase(c.suffix ?? String(i + 1), c);
      const computed = await readEffectiveCommand(conn, await readUnitStatus(conn, unit));
      assert.deepStrictEqual(computed.argv, observed.argv, 'argv');
      assert.deepStrictEqual(computed.env, unitDefined(observed, computed), 'environment');
      if (computed.workingDirectory !== undefined) {
        assert.strictEqual(computed.workingDirectory, observed.cwd, 'working directory');
      }
      if (computed.user !== undefined) {
        assert.strictEqual(computed.user, observed.env.USER, 'user');
      }
    });
  });

  it('refuses, like systemd, a unit whose required environment file is missing', async () => {
    const unit = 'krd-argv-required.service';
    unitFiles.push(unit);
    started.push(unit);
    await root(
      `${writeFile(`/etc/systemd/system/${unit}`, `[Service]\nType=oneshot\nEnvironmentFile=${RUN_DIR}/nowhere.env\nExecStart=${PRINTER}\n`)} && systemctl daemon-reload`,
    );
    const start = await sharedNode().ssh(`systemctl start ${unit}`);
    assert.notStrictEqual(start.code, 0, 'systemd refuses to start it');
    await assert.rejects(readEffectiveCommand(conn, await readUnitStatus(conn, unit)), /nowhere\.env does not exist/);
  });

  for (const [name, bytes, systemdSays] of [
    ['utf8', Buffer.concat([Buffer.from('A=ok\nB=bad'), Buffer.from([0xc3, 0x28]), Buffer.from('\n')]), 'Invalid argument'],
    ['nul', Buffer.from('A=ok\nB=x\0y\n'), 'Bad message'],
  ] as const) {
    it(`refuses, like systemd, a unit whose required environment file it cannot load (${systemdSays})`, async () => {
      const unit = `krd-argv-refused-${name}.service`;
      unitFiles.push(unit);
      started.push(unit);
      await root(
        `${writeFile(`${RUN_DIR}/refused-${name}.env`, bytes)} && ${writeFile(`/etc/systemd/system/${unit}`, `[Service]\nType=oneshot\nEnvironmentFile=${RUN_DIR}/refused-${name}.env\nExecStart=${PRINTER}\n`)} && systemctl daemon-reload`,
      );
      const start = await sharedNode().ssh(`systemctl start ${unit}`);
      assert.notStrictEqual(start.code, 0, 'systemd refuses to start it');
      const journal = await root(`journalctl -u ${unit} -o cat --no-pager`);
      assert.match(journal, new RegExp(`Failed to run 'start' task: ${systemdSays}`));
      await assert.rejects(
        readEffectiveCommand(conn, await readUnitStatus(conn, unit)),
        (err: unknown) =>
          err instanceof UnitWouldNotStartError &&
          err.message.includes(`systemd would refuse to start ${unit} ("${systemdSays}")`) &&
          err.message.includes(`refused-${name}.env line 2`),
      );
    });
  }

  it("matches the node's running kubelet: /proc/MAINPID/cmdline and environ", async () => {
    const status = await readUnitStatus(conn, 'kubelet.service');
    assert.ok(status.mainPid > 0, 'the kubelet runs');
    const computed = await readEffectiveCommand(conn, status);
    const [cmdline, environ] = (await root(`base64 -w0 /proc/${status.mainPid}/cmdline; echo; base64 -w0 /proc/${status.mainPid}/environ`))
      .split('\n')
      .map((b) => Buffer.from(b, 'base64').toString('utf8').split('\0').slice(0, -1));
    const observed = {
      argv: cmdline,
      cwd: '',
      env: Object.fromEntries(environ.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)])),
    };
    assert.deepStrictEqual(computed.argv, observed.argv, 'argv');
    assert.deepStrictEqual(computed.env, unitDefined(observed, computed), 'environment');
  });

  it('reads the same through sudo -n when the login user is not root', async () => {
    const sudo = connect(sharedNode(), 'sudo');
    try {
      const status = await readUnitStatus(sudo, 'kubelet.service');
      assert.deepStrictEqual(await readEffectiveCommand(sudo, status), await readEffectiveCommand(conn, status));
    } finally {
      sudo.disconnect();
    }
  });
});
