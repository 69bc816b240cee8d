// DAP framing over arbitrary chunk boundaries, and refusal of streams that are not DAP.
import * as assert from 'assert';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { DapMessageReader, encodeDapMessage } from '../../src/debug/dapFraming';

describe('DAP framing', () => {
  const messages: DebugProtocol.ProtocolMessage[] = [
    { seq: 1, type: 'request' },
    {
      seq: 2,
      type: 'event',
      event: 'output',
      body: { output: 'héllo wörld ✓\r\n\r\nContent-Length: 3\r\n' },
    } as DebugProtocol.ProtocolMessage,
    {
      seq: 3,
      type: 'response',
      request_seq: 1,
      success: true,
      command: 'x',
      body: { big: 'x'.repeat(100_000) },
    } as DebugProtocol.ProtocolMessage,
  ];
  const wire = Buffer.concat(messages.map(encodeDapMessage));

  for (const size of [1, 7, 64, 4096, wire.length]) {
    it(`reassembles messages cut into ${size}-byte chunks`, () => {
      const got: DebugProtocol.ProtocolMessage[] = [];
      const reader = new DapMessageReader((m) => got.push(m));
      for (let i = 0; i < wire.length; i += size) {
        reader.push(wire.subarray(i, i + size));
      }
      assert.deepStrictEqual(got, messages);
    });
  }

  it('refuses a stream without Content-Length', () => {
    const reader = new DapMessageReader(() => undefined);
    assert.throws(() => reader.push(Buffer.from('HTTP/1.1 200 OK\r\n\r\n')), /without Content-Length/);
    const runaway = new DapMessageReader(() => undefined);
    assert.throws(() => runaway.push(Buffer.alloc(9000, 65)), /not DAP/);
  });
});
