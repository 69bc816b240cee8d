// Carries DAP messages over any duplex byte stream (here an ssh2 forwardOut channel to Delve on the
// node). A broken stream ends the bridge with a reason, so the session never dies silently.
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { Duplex } from 'stream';
import { DapMessageReader, encodeDapMessage } from './dapFraming';

export interface DapBridgeEvents {
  message(message: DebugProtocol.ProtocolMessage): void;
  /** The stream is gone; `reason` is undefined when we closed it ourselves. */
  closed(reason: string | undefined): void;
}

export class DapBridge {
  private closedByUs = false;
  private ended = false;

  constructor(
    private readonly stream: Duplex,
    private readonly events: DapBridgeEvents,
  ) {
    const reader = new DapMessageReader((m) => this.events.message(m));
    stream.on('data', (chunk: Buffer) => {
      try {
        reader.push(chunk);
      } catch (err) {
        this.end(`the debugger sent something that is not DAP (${(err as Error).message})`);
      }
    });
    stream.on('error', (err: Error) => this.end(`the connection to Delve failed: ${err.message}`));
    // An ssh2 channel reports the far side going away (Delve killed) as 'end'; 'close' follows only
    // once our side closes too, so both mean the session is over.
    const gone = () => this.end('the connection to Delve closed (Delve exited, or the SSH connection dropped)');
    stream.on('end', gone);
    stream.on('close', gone);
  }

  send(message: DebugProtocol.ProtocolMessage): void {
    if (!this.ended) {
      this.stream.write(encodeDapMessage(message));
    }
  }

  get isOpen(): boolean {
    return !this.ended;
  }

  close(): void {
    this.closedByUs = true;
    this.end(undefined);
  }

  private end(reason: string | undefined): void {
    if (this.ended) {
      return;
    }
    this.ended = true;
    this.stream.destroy();
    this.events.closed(this.closedByUs ? undefined : reason);
  }
}
