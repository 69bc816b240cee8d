// A test-side DAP client: numbered requests, awaited responses and events, and a transcript that
// is printed only when a test fails.
import type { DebugProtocol } from '@vscode/debugprotocol';

export class DapTestClient {
  private seq = 1;
  private readonly waiting = new Map<number, (r: DebugProtocol.Response) => void>();
  private readonly events: DebugProtocol.Event[] = [];
  private readonly eventWaiters: { name: string; resolve: (e: DebugProtocol.Event) => void }[] = [];
  readonly transcript: string[] = [];

  constructor(private readonly send: (m: DebugProtocol.ProtocolMessage) => void) {}

  /** Feed every message the adapter sends to VS Code here. */
  receive = (m: DebugProtocol.ProtocolMessage): void => {
    this.transcript.push(`← ${JSON.stringify(m).slice(0, 600)}`);
    if (m.type === 'response') {
      const r = m as DebugProtocol.Response;
      this.waiting.get(r.request_seq)?.(r);
      this.waiting.delete(r.request_seq);
    } else if (m.type === 'event') {
      const e = m as DebugProtocol.Event;
      const i = this.eventWaiters.findIndex((w) => w.name === e.event);
      if (i >= 0) {
        this.eventWaiters.splice(i, 1)[0].resolve(e);
      } else {
        this.events.push(e);
      }
    }
  };

  request<T extends DebugProtocol.Response = DebugProtocol.Response>(command: string, args?: unknown, timeoutMs = 30_000): Promise<T> {
    const seq = this.seq++;
    const message = { seq, type: 'request', command, arguments: args } as DebugProtocol.Request;
    this.transcript.push(`→ ${JSON.stringify(message).slice(0, 600)}`);
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`No response to ${command} within ${timeoutMs} ms`)), timeoutMs);
      this.waiting.set(seq, (r) => {
        clearTimeout(timer);
        if (r.success) {
          resolve(r as T);
        } else {
          reject(new Error(`${command} failed: ${r.message} ${JSON.stringify(r.body ?? {})}`));
        }
      });
      this.send(message);
    });
  }

  waitEvent<T extends DebugProtocol.Event = DebugProtocol.Event>(name: string, timeoutMs = 30_000): Promise<T> {
    const i = this.events.findIndex((e) => e.event === name);
    if (i >= 0) {
      return Promise.resolve(this.events.splice(i, 1)[0] as T);
    }
    return new Promise<T>((resolve, reject) => {
      const waiter = { name, resolve: resolve as (e: DebugProtocol.Event) => void };
      this.eventWaiters.push(waiter);
      setTimeout(() => {
        const j = this.eventWaiters.indexOf(waiter);
        if (j >= 0) {
          this.eventWaiters.splice(j, 1);
          reject(new Error(`No ${name} event within ${timeoutMs} ms`));
        }
      }, timeoutMs);
    });
  }

  outputText(): string {
    return this.transcript.filter((l) => l.includes('"event":"output"')).join('\n');
  }
}
