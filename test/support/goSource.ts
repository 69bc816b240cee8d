// Finding breakpoint lines in the sample kubelet's Go source without hard-coding line numbers.

/** The 1-based line of the first statement in the body of the func whose signature matches. */
export function firstStatementOf(lines: readonly string[], signature: RegExp): number {
  const start = lines.findIndex((l) => signature.test(l));
  if (start < 0) {
    throw new Error(`No func matching ${signature} in the source.`);
  }
  let i = start;
  while (!lines[i].trimEnd().endsWith('{')) {
    i++; // a signature can span lines
  }
  for (i++; i < lines.length; i++) {
    const t = lines[i].trim();
    if (t !== '' && !t.startsWith('//')) {
      return i + 1;
    }
  }
  throw new Error(`The func matching ${signature} has no statement.`);
}
