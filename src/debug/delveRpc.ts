// A minimal client for Delve's JSON-RPC API (served on the same port as DAP), used before the DAP
// attach to ask which functions and source files the binary really has.
import type { Duplex } from 'stream';

export class DelveRpc {
  private nextId = 1;
  private buffered = '';
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  constructor(private readonly stream: Duplex) {
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => this.onData(chunk));
    const fail = (err: Error) => {
      for (const p of this.pending.values()) {
        p.reject(err);
      }
      this.pending.clear();
    };
    stream.on('error', fail);
    stream.on('close', () => fail(new Error('Delve closed the JSON-RPC connection.')));
  }

  call<T>(method: string, params: unknown): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.stream.write(JSON.stringify({ method: `RPCServer.${method}`, params: [params], id }) + '\n');
    });
  }

  async listFunctions(filter: string): Promise<string[]> {
    return (await this.call<{ Funcs: string[] | null }>('ListFunctions', { Filter: filter, FollowCalls: 0 })).Funcs ?? [];
  }

  async listSources(filter: string): Promise<string[]> {
    return (await this.call<{ Sources: string[] | null }>('ListSources', { Filter: filter })).Sources ?? [];
  }

  close(): void {
    this.stream.destroy();
  }

  private onData(chunk: string): void {
    this.buffered += chunk;
    let newline: number;
    while ((newline = this.buffered.indexOf('\n')) >= 0) {
      const line = this.buffered.slice(0, newline).trim();
      this.buffered = this.buffered.slice(newline + 1);
      if (line === '') {
        continue;
      }
      const reply = JSON.parse(line) as { id: number; result: unknown; error: string | null };
      const pending = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      if (reply.error) {
        pending?.reject(new Error(`Delve: ${reply.error}`));
      } else {
        pending?.resolve(reply.result);
      }
    }
  }
}
