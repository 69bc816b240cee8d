// A minimal client for Delve's JSON-RPC API (served on the same port as DAP). The launcher uses it
// to learn when Delve has really loaded the binary, and which functions and source files it has.
// Every call has a time limit and an abort signal, and all calls fail as soon as the stream ends.
import type { Duplex } from 'stream';

export class DelveRpcError extends Error {
  constructor(
    message: string,
    /** 'closed': Delve went away; 'timeout': no answer in time; 'aborted': the caller gave up; 'delve': Delve answered with an error. */
    readonly reason: 'closed' | 'timeout' | 'aborted' | 'delve',
  ) {
    super(message);
    this.name = 'DelveRpcError';
  }
}

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
}

export class DelveRpc {
  private nextId = 1;
  private buffered = '';
  private readonly pending = new Map<number, Pending>();
  private closedWith?: DelveRpcError;

  constructor(private readonly stream: Duplex) {
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => this.onData(chunk));
    // An ssh2 channel whose far end went away may emit only 'end'; any of the three means no answer will come.
    stream.on('end', () => this.failAll(new DelveRpcError('Delve closed the connection.', 'closed')));
    stream.on('close', () => this.failAll(new DelveRpcError('Delve closed the connection.', 'closed')));
    stream.on('error', (err: Error) => this.failAll(new DelveRpcError(`The connection to Delve failed: ${err.message}`, 'closed')));
  }

  call<T>(method: string, params: unknown, opts: { timeoutMs: number; signal?: AbortSignal }): Promise<T> {
    if (this.closedWith) {
      return Promise.reject(this.closedWith);
    }
    if (opts.signal?.aborted) {
      return Promise.reject(new DelveRpcError('Cancelled.', 'aborted'));
    }
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        opts.signal?.removeEventListener('abort', onAbort);
        this.pending.delete(id);
      };
      const onAbort = () => {
        done();
        reject(new DelveRpcError('Cancelled.', 'aborted'));
      };
      const timer = setTimeout(() => {
        done();
        reject(new DelveRpcError(`Delve did not answer ${method} within ${Math.round(opts.timeoutMs / 1000)} s.`, 'timeout'));
      }, opts.timeoutMs);
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.set(id, {
        resolve: (v) => {
          done();
          resolve(v as T);
        },
        reject: (e) => {
          done();
          reject(e);
        },
      });
      this.stream.write(JSON.stringify({ method: `RPCServer.${method}`, params: [params], id }) + '\n');
    });
  }

  async listFunctions(filter: string, opts: { timeoutMs: number; signal?: AbortSignal }): Promise<string[]> {
    return (await this.call<{ Funcs: string[] | null }>('ListFunctions', { Filter: filter, FollowCalls: 0 }, opts)).Funcs ?? [];
  }

  async listSources(filter: string, opts: { timeoutMs: number; signal?: AbortSignal }): Promise<string[]> {
    return (await this.call<{ Sources: string[] | null }>('ListSources', { Filter: filter }, opts)).Sources ?? [];
  }

  close(): void {
    this.failAll(new DelveRpcError('The JSON-RPC connection was closed.', 'closed'));
    this.stream.destroy();
  }

  private failAll(err: DelveRpcError): void {
    this.closedWith ??= err;
    for (const p of [...this.pending.values()]) {
      p.reject(err);
    }
    this.pending.clear();
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
      let reply: { id: number; result: unknown; error: string | null };
      try {
        reply = JSON.parse(line) as typeof reply;
      } catch {
        this.failAll(new DelveRpcError(`Delve sent something that is not JSON-RPC: ${line.slice(0, 80)}`, 'closed'));
        this.stream.destroy();
        return;
      }
      const pending = this.pending.get(reply.id);
      if (reply.error) {
        pending?.reject(new DelveRpcError(`Delve: ${reply.error}`, 'delve'));
      } else {
        pending?.resolve(reply.result);
      }
    }
  }
}
