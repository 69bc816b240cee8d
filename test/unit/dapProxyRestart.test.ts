// Restart must never reach Delve: its restart would kill the kubelet and start one outside systemd.
// The proxy hides the capability from VS Code (which then restarts through a fresh launch) and refuses
// a restart request. Delve's side is an in-memory stream here: this is the proxy's own logic.
import * as assert from 'assert';
import { Duplex, PassThrough } from 'stream';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { KubeletDapProxy } from '../../src/debug/dapProxy';
import { DapMessageReader, encodeDapMessage } from '../../src/debug/dapFraming';
import { memoryLogger } from '../support/nodeClient';

function delvePipe() {
  const toDelve = new PassThrough();
  const fromDelve = new PassThrough();
  const stream = Duplex.from({ readable: fromDelve, writable: toDelve });
  const received: DebugProtocol.ProtocolMessage[] = [];
  const reader = new DapMessageReader((m) => received.push(m));
  toDelve.on('data', (c: Buffer) => reader.push(c));
  return { stream, received, send: (m: object) => fromDelve.write(encodeDapMessage(m as DebugProtocol.ProtocolMessage)) };
}

describe('DAP proxy and restart', () => {
  it('hides supportsRestartRequest from VS Code and never forwards a restart to Delve', async () => {
    const delve = delvePipe();
    const toClient: DebugProtocol.ProtocolMessage[] = [];
    const proxy = new KubeletDapProxy({
      stream: delve.stream,
      target: {
        unit: 'kubelet.service',
        restore: async () => ({ activeState: 'active', mainPid: 1, executable: '/usr/bin/kubelet', leftovers: [] }),
      },
      substitutePath: [],
      stopOnEntry: false,
      log: memoryLogger(),
      toClient: (m) => toClient.push(m),
    });
    proxy.handleClientMessage({
      seq: 1,
      type: 'request',
      command: 'initialize',
      arguments: { adapterID: 'kubelet' },
    } as DebugProtocol.Request);
    delve.send({
      seq: 1,
      type: 'response',
      request_seq: 1,
      success: true,
      command: 'initialize',
      body: { supportsRestartRequest: true, supportsConfigurationDoneRequest: true },
    });
    delve.send({ seq: 2, type: 'event', event: 'capabilities', body: { capabilities: { supportsRestartRequest: true } } });
    await new Promise((r) => setTimeout(r, 50));
    const init = toClient.find((m) => (m as DebugProtocol.Response).command === 'initialize') as DebugProtocol.InitializeResponse;
    assert.strictEqual(init.body?.supportsRestartRequest, false);
    assert.strictEqual(init.body?.supportsConfigurationDoneRequest, true, 'the other capabilities pass through');
    const caps = toClient.find((m) => (m as DebugProtocol.Event).event === 'capabilities') as DebugProtocol.CapabilitiesEvent;
    assert.strictEqual(caps.body.capabilities.supportsRestartRequest, false);

    proxy.handleClientMessage({ seq: 2, type: 'request', command: 'restart', arguments: {} } as DebugProtocol.Request);
    await new Promise((r) => setTimeout(r, 50));
    assert.deepStrictEqual(
      delve.received.map((m) => (m as DebugProtocol.Request).command),
      ['initialize'],
      'Delve never saw the restart',
    );
    const refused = toClient.find((m) => (m as DebugProtocol.Response).command === 'restart') as DebugProtocol.Response;
    assert.strictEqual(refused.success, false);
    assert.match(refused.message ?? '', /new one/);
  });
});
