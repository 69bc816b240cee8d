// Reads EnvironmentFile= contents exactly as systemd 252's parse_env_file() does. Every rule below was
// checked against real systemd on the test node (test/e2e/effectiveCommand.test.ts).

/**
 * The KEY=VALUE pairs of an environment file, later keys replacing earlier ones. Deliberately not a
 * shell parser: no `export`, no `$VAR` expansion, and quotes may be glued to unquoted text.
 */
export function parseEnvironmentFile(text: string): Map<string, string> {
  const out = new Map<string, string>();
  let state: State = 'preKey';
  let key = '';
  let value = '';
  // Trailing blanks are trimmed from keys and unquoted values; these mark where they started.
  let keyBlank = -1;
  let valueBlank = -1;
  const push = () => {
    const k = keyBlank >= 0 ? key.slice(0, keyBlank) : key;
    // Invalid names ("export A", "1X", "A.B") are dropped when the unit starts, silently.
    if (isValidEnvName(k)) {
      out.set(k, valueBlank >= 0 ? value.slice(0, valueBlank) : value);
    }
    key = value = '';
    keyBlank = valueBlank = -1;
  };
  for (const c of text) {
    const newline = c === '\n' || c === '\r';
    const blank = newline || c === ' ' || c === '\t';
    switch (state) {
      case 'preKey':
        if (c === '#' || c === ';') {
          state = 'comment';
        } else if (!blank) {
          state = 'key';
          key = c;
        }
        break;
      case 'key':
        if (newline) {
          state = 'preKey'; // a line without "=" is ignored
          key = '';
          keyBlank = -1;
        } else if (c === '=') {
          state = 'preValue';
        } else {
          keyBlank = trailingBlankStart(keyBlank, key, blank);
          key += c;
        }
        break;
      case 'preValue':
        if (newline) {
          state = 'preKey';
          push();
        } else if (c === "'") {
          state = 'single';
        } else if (c === '"') {
          state = 'double';
        } else if (c === '\\') {
          state = 'valueEscape';
        } else if (!blank) {
          state = 'value';
          value += c;
        }
        break;
      case 'value':
        if (newline) {
          state = 'preKey';
          push();
        } else if (c === '\\') {
          state = 'valueEscape';
          valueBlank = -1;
        } else {
          valueBlank = trailingBlankStart(valueBlank, value, blank);
          value += c;
        }
        break;
      case 'valueEscape':
        // Unquoted, a backslash keeps the next character literally; before a newline it continues the line.
        state = 'value';
        if (!newline) {
          value += c;
        }
        break;
      case 'single':
        // Closing a quote goes back to preValue, so 'a' 'b' and 'a'b both read as "ab".
        if (c === "'") {
          state = 'preValue';
        } else {
          value += c;
        }
        break;
      case 'double':
        if (c === '"') {
          state = 'preValue';
        } else if (c === '\\') {
          state = 'doubleEscape';
        } else {
          value += c;
        }
        break;
      case 'doubleEscape':
        // Only \" \\ \` \$ and backslash-newline are escapes; any other backslash stays.
        state = 'double';
        if ('"\\`$'.includes(c)) {
          value += c;
        } else if (c !== '\n') {
          value += '\\' + c;
        }
        break;
      case 'comment':
        if (c === '\\') {
          state = 'commentEscape';
        } else if (newline) {
          state = 'preKey';
        }
        break;
      case 'commentEscape':
        // A backslash-newline continues the comment onto the next line, hiding that line too.
        state = 'comment';
        break;
    }
  }
  if (state !== 'preKey' && state !== 'key' && state !== 'comment' && state !== 'commentEscape') {
    push(); // a last line without newline, or an unterminated quote, still counts
  }
  return out;
}

/** Where the trailing run of blanks starts once a character is appended to `text`; -1 when none. */
function trailingBlankStart(start: number, text: string, blank: boolean): number {
  return !blank ? -1 : start < 0 ? text.length : start;
}

type State = 'preKey' | 'key' | 'preValue' | 'value' | 'valueEscape' | 'single' | 'double' | 'doubleEscape' | 'comment' | 'commentEscape';

/** systemd's env_name_is_valid(): what it keeps of Environment= and environment files. */
export function isValidEnvName(name: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name);
}
