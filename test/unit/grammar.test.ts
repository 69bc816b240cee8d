// The systemd-unit TextMate grammar, tokenized by vscode-textmate with the same Oniguruma engine
// VS Code uses.
import * as assert from 'assert';
import { readFileSync } from 'fs';
import * as path from 'path';
import * as oniguruma from 'vscode-oniguruma';
import * as textmate from 'vscode-textmate';

const root = path.resolve(__dirname, '..', '..', '..');
const SCOPE = 'source.systemd-unit.kubelet-remote-debug';

async function loadGrammar(): Promise<textmate.IGrammar> {
  const wasm = readFileSync(path.join(root, 'node_modules', 'vscode-oniguruma', 'release', 'onig.wasm'));
  await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
  const registry = new textmate.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (s) => new oniguruma.OnigScanner(s),
      createOnigString: (s) => new oniguruma.OnigString(s),
    }),
    loadGrammar: async (scope) =>
      scope === SCOPE
        ? textmate.parseRawGrammar(
            readFileSync(path.join(root, 'syntaxes', 'systemd-unit.tmLanguage.json'), 'utf8'),
            'systemd-unit.tmLanguage.json',
          )
        : null,
  });
  const grammar = await registry.loadGrammar(SCOPE);
  assert.ok(grammar);
  return grammar;
}

/** Each token's text with its innermost scope, line by line. */
function tokenize(grammar: textmate.IGrammar, text: string): { text: string; scopes: string[] }[][] {
  let state = textmate.INITIAL;
  return text.split('\n').map((line) => {
    const result = grammar.tokenizeLine(line, state);
    state = result.ruleStack;
    return result.tokens.map((t) => ({ text: line.slice(t.startIndex, t.endIndex), scopes: t.scopes }));
  });
}

function scopeOf(lines: ReturnType<typeof tokenize>, lineIndex: number, text: string): string[] {
  const token = lines[lineIndex].find((t) => t.text === text);
  assert.ok(token, `line ${lineIndex} has a token "${text}": ${JSON.stringify(lines[lineIndex].map((t) => t.text))}`);
  return token.scopes;
}

describe('systemd-unit grammar', () => {
  let grammar: textmate.IGrammar;
  before(async () => {
    grammar = await loadGrammar();
  });

  it("colours kubeadm's real 10-kubeadm.conf", () => {
    const lines = tokenize(
      grammar,
      readFileSync(path.join(root, 'test', 'fixtures', 'units', 'kubelet.service.d', '10-kubeadm.conf'), 'utf8'),
    );
    assert.ok(lines[0][0].scopes.includes('comment.line.number-sign.systemd'));
    assert.ok(scopeOf(lines, 1, 'Service').includes('entity.name.section.systemd'));
    assert.ok(scopeOf(lines, 2, 'Environment').includes('keyword.other.directive.systemd'));
    assert.ok(scopeOf(lines, 2, '=').includes('keyword.operator.assignment.systemd'));
    assert.ok(lines[2].some((t) => t.scopes.includes('string.quoted.double.systemd')));
    assert.ok(scopeOf(lines, 5, '-').includes('keyword.operator.exec-prefix.systemd'), 'EnvironmentFile=- is the optional prefix');
    assert.ok(scopeOf(lines, 10, 'KUBELET_KUBEADM_ARGS').includes('variable.other.name.systemd'));
    assert.ok(scopeOf(lines, 10, 'KUBELET_KUBEADM_ARGS').includes('variable.other.unbraced.systemd'));
  });

  it('tells ${VAR} from $VAR, finds specifiers, prefixes and constants', () => {
    const lines = tokenize(
      grammar,
      [
        '[Unit]',
        'Description=Debug of %n on %H',
        '[Service]',
        'ExecStart=-@/usr/bin/kubelet ${ONE_WORD} $SPLIT',
        'Restart=always',
        'RestartSec=10s',
        'NoNewPrivileges=yes',
        '; a semicolon comment',
      ].join('\n'),
    );
    assert.ok(scopeOf(lines, 1, '%n').includes('constant.other.placeholder.specifier.systemd'));
    assert.ok(scopeOf(lines, 1, '%H').includes('constant.other.placeholder.specifier.systemd'));
    assert.ok(scopeOf(lines, 3, '-@').includes('keyword.operator.exec-prefix.systemd'));
    assert.ok(scopeOf(lines, 3, 'ONE_WORD').includes('variable.other.braced.systemd'));
    assert.ok(scopeOf(lines, 3, 'SPLIT').includes('variable.other.unbraced.systemd'));
    assert.ok(scopeOf(lines, 5, '10s').includes('constant.numeric.systemd'));
    assert.ok(scopeOf(lines, 6, 'yes').includes('constant.language.systemd'));
    assert.ok(lines[7][0].scopes.includes('comment.line.number-sign.systemd'));
  });

  it('continues a value over backslash-newline and stops after it', () => {
    const lines = tokenize(grammar, ['ExecStart=/usr/bin/kubelet \\', '  --v=2 $EXTRA', 'User=root'].join('\n'));
    assert.ok(scopeOf(lines, 0, '\\').includes('constant.character.escape.line-continuation.systemd'));
    assert.ok(scopeOf(lines, 1, 'EXTRA').includes('variable.other.name.systemd'), 'the continued line is still a value');
    assert.ok(scopeOf(lines, 2, 'User').includes('keyword.other.directive.systemd'), 'the next line is a new directive');
  });
});
