// The directive table and the cursor analysis behind hover and completion for unit files, including
// the systemd syntax corners: continued values, comments inside them, and headers look-alikes.
import * as assert from 'assert';
import { readFileSync } from 'fs';
import * as path from 'path';
import {
  completionContextAt,
  directivesFor,
  findDirective,
  lineContext,
  nameAt,
  sectionAt,
  UNIT_DIRECTIVES,
  UNIT_SECTIONS,
} from '../../src/language/unitDirectives';
import { parseUnitFile } from '../../src/systemd/unitFile';

const repo = path.resolve(__dirname, '..', '..', '..');
const at = (line: number, character = 0) => ({ line, character });

describe('unit directive table', () => {
  it('covers the directives kubelet and containerd units use, each with a one-line description', () => {
    const expected = {
      Unit: [
        'Description',
        'Documentation',
        'After',
        'Before',
        'Wants',
        'Requires',
        'BindsTo',
        'PartOf',
        'Conflicts',
        'ConditionPathExists',
        'StartLimitIntervalSec',
        'StartLimitBurst',
      ],
      Service: [
        'Type',
        'ExecStart',
        'ExecStartPre',
        'ExecStartPost',
        'ExecReload',
        'ExecStop',
        'Restart',
        'RestartSec',
        'TimeoutStartSec',
        'TimeoutStopSec',
        'Environment',
        'EnvironmentFile',
        'UnsetEnvironment',
        'PassEnvironment',
        'WorkingDirectory',
        'User',
        'Group',
        'KillMode',
        'KillSignal',
        'LimitNOFILE',
        'LimitNPROC',
        'LimitCORE',
        'TasksMax',
        'Delegate',
        'CPUAccounting',
        'MemoryAccounting',
        'MemoryMax',
        'OOMScoreAdjust',
        'Slice',
        'NotifyAccess',
        'StandardOutput',
        'StandardError',
        'SyslogIdentifier',
        'StartLimitInterval',
      ],
      Install: ['WantedBy', 'RequiredBy', 'Alias', 'Also'],
    };
    for (const [section, names] of Object.entries(expected)) {
      const offered = directivesFor(section).map((d) => d.name);
      for (const name of names) {
        assert.ok(offered.includes(name), `${name} is offered in [${section}]`);
      }
    }
    const seen = new Set<string>();
    for (const d of UNIT_DIRECTIVES) {
      assert.ok(!seen.has(d.name), `${d.name} is listed once`);
      seen.add(d.name);
      assert.ok(d.sections.length > 0);
      assert.ok(d.description.length > 20 && d.description.length < 140 && !d.description.includes('\n'), `${d.name}: one line`);
    }
    assert.deepStrictEqual(
      UNIT_SECTIONS.map((s) => s.name),
      ['Unit', 'Service', 'Install'],
    );
  });

  it("knows every directive of the test node's kubelet unit and kubeadm drop-in, in the section they use", () => {
    const files = ['test/node/rootfs/lib/systemd/system/kubelet.service', 'test/fixtures/units/kubelet.service.d/10-kubeadm.conf'];
    for (const file of files) {
      for (const a of parseUnitFile(readFileSync(path.join(repo, file), 'utf8'), file)) {
        const d = findDirective(a.key);
        assert.ok(d, `${file}:${a.line} ${a.key} is described`);
        assert.ok((d.sections as readonly string[]).includes(a.section), `${a.key} is valid in [${a.section}]`);
      }
    }
  });

  it('matches names case-sensitively, as systemd does, and offers nothing outside known sections', () => {
    assert.strictEqual(findDirective('restart'), undefined);
    assert.strictEqual(findDirective('Restart')?.sections[0], 'Service');
    assert.deepStrictEqual(directivesFor(undefined), []);
    assert.deepStrictEqual(directivesFor('Socket'), []);
    assert.ok(directivesFor('Install').every((d) => d.sections.includes('Install')));
  });
});

describe('section at a position', () => {
  const text = [
    '# Note: [Install] in a comment is no header', // 0
    '[Unit]', //                                     1
    'Description=x', //                              2
    '', //                                           3
    '[Service]', //                                  4
    'ExecStart=/usr/bin/kubelet \\', //              5
    '[Install] \\', //                                6: continues the value, not a header
    '# a comment inside the continuation', //        7
    '; another one', //                              8
    '  --v=2', //                                    9: still the value
    'Restart=always', //                             10
    '; [Install]', //                                11
    '[Install]', //                                  12
    'WantedBy=multi-user.target', //                 13
  ].join('\r\n');

  it('is undefined above the first header, even next to a header in a comment', () => {
    assert.strictEqual(sectionAt(text, at(0)), undefined);
  });

  it('follows headers, and a header line is in its own section', () => {
    assert.strictEqual(sectionAt(text, at(1)), 'Unit');
    assert.strictEqual(sectionAt(text, at(3)), 'Unit');
    assert.strictEqual(sectionAt(text, at(4)), 'Service');
    assert.strictEqual(sectionAt(text, at(12)), 'Install');
    assert.strictEqual(sectionAt(text, at(13)), 'Install');
  });

  it('treats a header-like line that continues a value as part of the value', () => {
    assert.deepStrictEqual(
      [sectionAt(text, at(6)), lineContext(text, 6).continuation, lineContext(text, 6).header],
      ['Service', true, false],
    );
    assert.strictEqual(sectionAt(text, at(10)), 'Service');
  });

  it('skips comments inside a continuation, which goes on past them', () => {
    assert.strictEqual(lineContext(text, 7).comment, true);
    assert.strictEqual(lineContext(text, 9).continuation, true);
    assert.strictEqual(lineContext(text, 10).continuation, false);
    assert.strictEqual(sectionAt(text, at(11)), 'Service', 'a commented-out header changes nothing');
    // The unit parser, which reads files as systemd does, sees the same structure.
    assert.deepStrictEqual(
      parseUnitFile(text).map((a) => `${a.section}.${a.key}`),
      ['Unit.Description', 'Service.ExecStart', 'Service.Restart', 'Install.WantedBy'],
    );
  });

  it('agrees with the unit parser on every assignment of the kubeadm drop-in', () => {
    const dropIn = readFileSync(path.join(repo, 'test/fixtures/units/kubelet.service.d/10-kubeadm.conf'), 'utf8');
    for (const a of parseUnitFile(dropIn)) {
      assert.strictEqual(sectionAt(dropIn, at(a.line - 1)), a.section, `line ${a.line}`);
      assert.strictEqual(nameAt(dropIn, at(a.line - 1, 1))?.name, a.key);
    }
  });
});

describe('the name under the cursor', () => {
  const text = '[Service]\n  Restart = always\nExecStart=/bin/a \\\n  Restart=no\n# Restart=no\n';

  it('finds a directive name, with its section and range, only over the name', () => {
    assert.deepStrictEqual(nameAt(text, at(1, 2)), { kind: 'directive', name: 'Restart', section: 'Service', start: 2, end: 9 });
    assert.strictEqual(nameAt(text, at(1, 9))?.name, 'Restart', 'at the end of the word too');
    assert.strictEqual(nameAt(text, at(1, 12)), undefined, 'the value is not the name');
    assert.strictEqual(nameAt(text, at(1, 0)), undefined, 'the indentation is not the name');
  });

  it('finds a section header name', () => {
    assert.deepStrictEqual(nameAt(text, at(0, 3)), { kind: 'section', name: 'Service', section: 'Service', start: 1, end: 8 });
  });

  it('finds nothing in a continued value or a comment', () => {
    assert.strictEqual(nameAt(text, at(3, 4)), undefined);
    assert.strictEqual(nameAt(text, at(4, 3)), undefined);
  });
});

describe('what completes at a position', () => {
  it('offers directive names at the start of a line, with the current section', () => {
    const text = '[Service]\nRes\n\n  \n';
    assert.deepStrictEqual(completionContextAt(text, at(1, 3)), { kind: 'directive', section: 'Service', prefix: 'Res', start: 0, end: 3 });
    assert.deepStrictEqual(
      completionContextAt(text, at(1, 1)),
      { kind: 'directive', section: 'Service', prefix: 'R', start: 0, end: 3 },
      'the whole word is replaced',
    );
    assert.deepStrictEqual(completionContextAt(text, at(2, 0)), { kind: 'directive', section: 'Service', prefix: '', start: 0, end: 0 });
    assert.deepStrictEqual(completionContextAt(text, at(3, 2)), { kind: 'directive', section: 'Service', prefix: '', start: 2, end: 2 });
  });

  it('offers section names after [, knowing whether ] is already there', () => {
    assert.deepStrictEqual(completionContextAt('[Unit]\n[\n', at(1, 1)), { kind: 'section', prefix: '', start: 1, end: 1, closed: false });
    assert.deepStrictEqual(completionContextAt('[Unit]\n[Ser]\n', at(1, 4)), {
      kind: 'section',
      prefix: 'Ser',
      start: 1,
      end: 4,
      closed: true,
    });
    assert.deepStrictEqual(completionContextAt('[Unit]\n[]\n', at(1, 1)), { kind: 'section', prefix: '', start: 1, end: 1, closed: true });
  });

  it('offers nothing in values, comments, continued lines, or before an existing =', () => {
    const text = '[Service]\nRestart=al\n# Res\nExecStart=/bin/a \\\n  Res\nRes=x\n[Install]\n';
    assert.strictEqual(completionContextAt(text, at(1, 10)), undefined);
    assert.strictEqual(completionContextAt(text, at(2, 5)), undefined);
    assert.strictEqual(completionContextAt(text, at(4, 5)), undefined);
    assert.strictEqual(completionContextAt(text, at(5, 3)), undefined);
    assert.strictEqual(completionContextAt(text, at(6, 0)), undefined, 'not in front of a header');
  });
});
