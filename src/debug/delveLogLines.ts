// With showLog, Delve logs to its stderr, which is the unit's journal, where the program's own
// output lands too. This tells Delve's lines (its logrus format) from the program's. No VS Code imports.

// "2026-12-01T23:16:39Z info layer=debugger launching process with args: [...]"
const DELVE_LOG_LINE =
  /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d) (?:trace|debug|info|warning|error|fatal|panic) layer=[a-z]+ /;

export function isDelveLogLine(line: string): boolean {
  return DELVE_LOG_LINE.test(line);
}

/** Splits a stream of text into runs of whole lines, each marked as Delve's or the program's. */
export class DelveLogSplitter {
  private partial = '';

  constructor(private readonly emit: (text: string, fromDelve: boolean) => void) {}

  push(chunk: string): void {
    const text = this.partial + chunk;
    const end = text.lastIndexOf('\n') + 1;
    // A line cut between two chunks waits for its end, so it is classified whole.
    this.partial = text.slice(end);
    let run = '';
    let runIsDelve = false;
    for (const line of text.slice(0, end).split(/(?<=\n)/)) {
      const delve = isDelveLogLine(line);
      if (run !== '' && delve !== runIsDelve) {
        this.emit(run, runIsDelve);
        run = '';
      }
      run += line;
      runIsDelve = delve;
    }
    if (run !== '') {
      this.emit(run, runIsDelve);
    }
  }
}
