// The time limit of an SSH handshake (ConnectTimeout), which stands still while a person is asked
// something: typing a password or fetching a one-time code is not the node being slow to answer.
import type { ConnectPrompts } from './connect';

export class HandshakeDeadline {
  private timer?: NodeJS.Timeout;
  private remainingMs: number;
  private startedAt = 0;
  private asking = 0;
  private done = false;

  constructor(
    limitMs: number,
    private readonly onExpired: () => void,
  ) {
    this.remainingMs = limitMs;
  }

  start(): void {
    if (!this.done && this.asking === 0 && !this.timer) {
      this.startedAt = Date.now();
      this.timer = setTimeout(() => {
        this.done = true;
        this.onExpired();
      }, this.remainingMs);
    }
  }

  /** Runs `ask` with the clock stopped; nested and overlapping questions keep it stopped until the last ends. */
  async whileAsking<T>(ask: () => Promise<T>): Promise<T> {
    if (this.asking++ === 0 && this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.remainingMs = Math.max(0, this.remainingMs - (Date.now() - this.startedAt));
    }
    try {
      return await ask();
    } finally {
      if (--this.asking === 0) {
        this.start();
      }
    }
  }

  /** The handshake ended (ready or failed): the limit no longer applies. */
  clear(): void {
    this.done = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** The same prompts, each with the clock stopped while it waits for the person. */
  pausing(prompts: ConnectPrompts): ConnectPrompts {
    return {
      trustHostKey: (request) => this.whileAsking(() => prompts.trustHostKey(request)),
      passphrase: (keyFile) => this.whileAsking(() => prompts.passphrase(keyFile)),
      password: (user, host) => this.whileAsking(() => prompts.password(user, host)),
      keyboardInteractive: (request) => this.whileAsking(() => prompts.keyboardInteractive(request)),
    };
  }
}
