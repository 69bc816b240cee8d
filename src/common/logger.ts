// The logging surface the core writes to. The VS Code side backs it with a LogOutputChannel, so
// "Developer: Set Log Level" controls verbosity; tests back it with an array or the console.

export interface Logger {
  trace(message: string): void;
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}
