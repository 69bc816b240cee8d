// Reads EnvironmentFile= contents exactly as systemd 252's parse_env_file() does. Every rule below was
// checked against real systemd on the test node (test/e2e/effectiveCommand.test.ts).

/**
 * A file systemd will not load: a NUL byte anywhere ("Bad message"), or a key or value that is not
 * valid UTF-8 ("Invalid argument"). A required file then stops the unit from starting; an optional
 * ("-") one is skipped whole, none of its variables set.
 */
export class EnvironmentFileError extends Error {
  override name = 'EnvironmentFileError';
  constructor(
    /** 1-based line of the offending assignment (where its key starts), or of the NUL byte. */
    readonly line: number,
    /** The error systemd reports when it refuses to start: "Invalid argument" or "Bad message". */
    readonly systemdError: 'Invalid argument' | 'Bad message',
    message: string,
  ) {
    super(message);
  }
}

/**
 * The KEY=VALUE pairs of an environment file, later keys replacing earlier ones. Deliberately not a
 * shell parser: no `export`, no `$VAR` expansion, and quotes may be glued to unquoted text. Give it
 * the file's bytes: systemd refuses the whole file for a NUL byte, or for a key or value that is not
 * valid UTF-8 (this throws EnvironmentFileError), while bad bytes in a comment do no harm.
 */
export function parseEnvironmentFile(content: string | Uint8Array): Map<string, string> {
  let text: string;
  if (typeof content === 'string') {
    text = content;
  } else {
    const nul = content.indexOf(0);
    if (nul >= 0) {
      const line = 1 + content.subarray(0, nul).filter((b) => b === 0x0a).length;
      throw new EnvironmentFileError(line, 'Bad message', `line ${line} holds a NUL byte`);
    }
    text = decodeKeepingInvalidBytes(content);
  }
  const out = new Map<string, string>();
  let state: State = 'preKey';
  let key = '';
  let value = '';
  // Trailing blanks are trimmed from keys and unquoted values; these mark where they started.
  let keyBlank = -1;
  let valueBlank = -1;
  let line = 1;
  let keyLine = 1;
  const push = () => {
    const k = keyBlank >= 0 ? key.slice(0, keyBlank) : key;
    const v = valueBlank >= 0 ? value.slice(0, valueBlank) : value;
    // Checked before the name is: an invalid name with bad bytes still fails the whole file.
    if (!isSystemdUtf8(k)) {
      throw new EnvironmentFileError(keyLine, 'Invalid argument', `line ${keyLine}: the key ${printable(k)} is not valid UTF-8`);
    }
    if (!isSystemdUtf8(v)) {
      throw new EnvironmentFileError(keyLine, 'Invalid argument', `line ${keyLine}: the value of ${printable(k)} is not valid UTF-8`);
    }
    // Invalid names ("export A", "1X", "A.B") are dropped when the unit starts, silently.
    if (isValidEnvName(k)) {
      out.set(k, v);
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
          keyLine = line;
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
    if (c === '\n') {
      line++;
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

/**
 * UTF-8 decoding that keeps each byte of an invalid sequence as the lone surrogate U+DC00+byte, so
 * the parser sees exactly where the bad bytes are and isSystemdUtf8() can tell them from text.
 */
function decodeKeepingInvalidBytes(bytes: Uint8Array): string {
  let out = '';
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i];
    const len = b < 0x80 ? 1 : (b & 0xe0) === 0xc0 ? 2 : (b & 0xf0) === 0xe0 ? 3 : (b & 0xf8) === 0xf0 ? 4 : 0;
    let cp = len === 1 ? b : len === 2 ? b & 0x1f : len === 3 ? b & 0x0f : b & 0x07;
    let ok = len > 0 && i + len <= bytes.length;
    for (let k = 1; ok && k < len; k++) {
      ok = (bytes[i + k] & 0xc0) === 0x80;
      cp = (cp << 6) | (bytes[i + k] & 0x3f);
    }
    // Overlong forms, UTF-16 surrogates and values past U+10FFFF are invalid, as in utf8_encoded_valid_unichar().
    const shortest = len === 1 || (len === 2 && cp >= 0x80) || (len === 3 && cp >= 0x800) || (len === 4 && cp >= 0x10000);
    if (ok && shortest && cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff)) {
      out += String.fromCodePoint(cp);
      i += len;
    } else {
      out += String.fromCharCode(0xdc00 + b); // b >= 0x80 here: a lone low surrogate
      i += 1;
    }
  }
  return out;
}

/** systemd's utf8_is_valid(): no surrogates and no noncharacters (U+FDD0 to U+FDEF, U+xFFFE, U+xFFFF). */
function isSystemdUtf8(text: string): boolean {
  for (const c of text) {
    const cp = c.codePointAt(0)!;
    if ((cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0xfdd0 && cp <= 0xfdef) || (cp & 0xfffe) === 0xfffe) {
      return false;
    }
  }
  return true;
}

/** A key for a message, quoted, its bad bytes shown as \xNN. */
function printable(text: string): string {
  let out = '';
  for (const c of text) {
    const cp = c.codePointAt(0)!;
    out += cp >= 0xdc80 && cp <= 0xdcff ? `\\x${(cp - 0xdc00).toString(16)}` : c;
  }
  return `"${out}"`;
}
