// DAP's wire format: "Content-Length: N\r\n\r\n" followed by N bytes of JSON. We frame it ourselves
// so any byte stream (an ssh2 channel) can carry a debug session.
import type { DebugProtocol } from '@vscode/debugprotocol';

const HEADER_END = Buffer.from('\r\n\r\n');

export function encodeDapMessage(message: DebugProtocol.ProtocolMessage): Buffer {
  const body = Buffer.from(JSON.stringify(message), 'utf8');
  return Buffer.concat([Buffer.from(`Content-Length: ${body.length}\r\n\r\n`, 'ascii'), body]);
}

/** Turns chunks from a stream into whole messages, however the chunks are cut. */
export class DapMessageReader {
  private buffer: Buffer = Buffer.alloc(0);
  private bodyLength = -1;

  constructor(private readonly onMessage: (message: DebugProtocol.ProtocolMessage) => void) {}

  push(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    for (;;) {
      if (this.bodyLength < 0) {
        const end = this.buffer.indexOf(HEADER_END);
        if (end < 0) {
          if (this.buffer.length > 8192) {
            throw new Error('The debugger sent a DAP header without an end; the stream is not DAP.');
          }
          return;
        }
        const header = this.buffer.subarray(0, end).toString('ascii');
        const match = /(?:^|\r\n)Content-Length: *(\d+)/i.exec(header);
        if (!match) {
          throw new Error(`The debugger sent a DAP header without Content-Length: ${JSON.stringify(header.slice(0, 200))}`);
        }
        this.bodyLength = Number(match[1]);
        this.buffer = this.buffer.subarray(end + HEADER_END.length);
      }
      if (this.buffer.length < this.bodyLength) {
        return;
      }
      const body = this.buffer.subarray(0, this.bodyLength).toString('utf8');
      this.buffer = this.buffer.subarray(this.bodyLength);
      this.bodyLength = -1;
      this.onMessage(JSON.parse(body) as DebugProtocol.ProtocolMessage);
    }
  }
}
