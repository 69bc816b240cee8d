// POSIX shell quoting for everything we send to a node. Unit names and paths come from users and
// from the node itself, so no argument ever reaches a remote shell unquoted.

/** Quotes one word so that `sh` reads it back byte for byte. */
export function shellQuote(word: string): string {
  if (word.includes('\0')) {
    throw new Error('A shell argument cannot contain a NUL byte.');
  }
  if (word !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) {
    return word;
  }
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** Builds a command line from an argv, quoting every word. */
export function shellCommand(argv: readonly string[]): string {
  if (argv.length === 0) {
    throw new Error('An empty command cannot be run.');
  }
  return argv.map(shellQuote).join(' ');
}
