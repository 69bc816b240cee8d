// The link emulator the bench puts in front of a node's sshd: its schedule (pure), and real loopback
// sockets through it for order, integrity, backpressure and how closes travel. Its rate and delay are
// measured by `npm run bench`, not here.
import * as assert from 'assert';
import { createHash, randomBytes } from 'crypto';
import * as net from 'net';
import { LINK_PROFILES, LinkProfile, LinkRelay, linkProfile, PacerState, queueLimitBytes, scheduleSlice } from '../support/linkRelay';

/** Fast enough that the socket tests take well under a second each, slow enough that the relay shapes. */
const FAST: LinkProfile = { name: 'fast', rateBitsPerSecond: 400e6, rttMs: 4 };

interface Target {
  server: net.Server;
  port: number;
  accepted: Promise<net.Socket>;
}

async function target(): Promise<Target> {
  let accept!: (s: net.Socket) => void;
  const accepted = new Promise<net.Socket>((r) => (accept = r));
  const server = net.createServer({ allowHalfOpen: true }, accept);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as net.AddressInfo).port, accepted };
}

function readAll(s: net.Socket): Promise<Buffer> {
  const chunks: Buffer[] = [];
  s.on('data', (c: Buffer) => chunks.push(c));
  return new Promise((resolve, reject) => {
    s.once('end', () => resolve(Buffer.concat(chunks)));
    s.once('error', reject);
  });
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('linkRelay', () => {
  describe('schedule', () => {
    it('spaces slices by their send time at the rate and adds half the RTT', () => {
      const p: LinkProfile = { name: 't', rateBitsPerSecond: 8e6, rttMs: 40 }; // 1 byte per µs
      const s: PacerState = { wireFreeAt: 0 };
      assert.strictEqual(scheduleSlice(s, 100, 1000, p), 100 + 1 + 20);
      // Arriving while the wire is busy: waits for it, so order and rate hold.
      assert.strictEqual(scheduleSlice(s, 100.5, 2000, p), 101 + 2 + 20);
      // After a quiet spell the wire is free at once.
      assert.strictEqual(scheduleSlice(s, 500, 1000, p), 500 + 1 + 20);
    });

    it('adds only the delay without a rate, and nothing on lan', () => {
      const s: PacerState = { wireFreeAt: 0 };
      assert.strictEqual(scheduleSlice(s, 10, 1e6, { name: 'd', rttMs: 100 }), 60);
      assert.strictEqual(scheduleSlice({ wireFreeAt: 0 }, 10, 1e6, LINK_PROFILES.lan), 10);
    });

    it('holds the bytes in flight plus a router queue before pausing the sender', () => {
      // cloud: 50 Mbit/s × 10 ms one way = 62,500 bytes on the wire.
      assert.strictEqual(queueLimitBytes(LINK_PROFILES.cloud), 62_500 + 256 * 1024);
      assert.strictEqual(queueLimitBytes(LINK_PROFILES.lan), 256 * 1024);
    });

    it('names its profiles and refuses an unknown one', () => {
      assert.deepStrictEqual(linkProfile('far'), { name: 'far', rateBitsPerSecond: 10e6, rttMs: 100 });
      assert.throws(() => linkProfile('moon'), /Unknown link profile 'moon'; use one of lan, cloud, far/);
    });
  });

  for (const profile of [FAST, LINK_PROFILES.lan]) {
    describe(`sockets (${profile.name})`, () => {
      let t: Target;
      let relay: LinkRelay;
      beforeEach(async () => {
        t = await target();
        relay = await LinkRelay.start({ host: '127.0.0.1', port: t.port }, profile);
      });
      afterEach(async () => {
        await relay.close();
        t.server.close();
      });

      it('delivers both directions intact and in order, and passes each end on', async () => {
        const up = randomBytes(3 * 1024 * 1024 + 17);
        const down = randomBytes(1024 * 1024 + 5);
        const client = net.connect(relay.port, '127.0.0.1');
        client.setNoDelay(true);
        const received = readAll(client);
        const server = await t.accepted;
        const serverGot = readAll(server);
        // Many small writes, so reordering of slices would show.
        for (let off = 0; off < up.length; off += 1000) {
          client.write(up.subarray(off, off + 1000));
        }
        client.end();
        server.end(down);
        assert.strictEqual(sha(await serverGot), sha(up));
        assert.strictEqual(sha(await received), sha(down));
      });

      it('closes the client when the target drops the connection', async () => {
        const client = net.connect(relay.port, '127.0.0.1');
        client.on('error', () => undefined);
        const closed = new Promise<void>((r) => client.once('close', () => r()));
        (await t.accepted).resetAndDestroy();
        await closed;
      });
    });
  }

  it('pauses a sender whose receiver does not read, holds no more than its limit, and loses nothing', async () => {
    const t = await target();
    const relay = await LinkRelay.start({ host: '127.0.0.1', port: t.port }, FAST);
    try {
      const client = net.connect(relay.port, '127.0.0.1');
      const server = await t.accepted;
      server.pause();
      const data = randomBytes(32 * 1024 * 1024);
      // The kernel's buffers on both legs fill, the relay's queue fills, and then writes report full.
      let full = false;
      for (let off = 0; off < data.length && !full; off += 64 * 1024) {
        full = !client.write(data.subarray(off, off + 64 * 1024));
        if (full) {
          client.write(data.subarray(off + 64 * 1024));
        }
      }
      await new Promise((r) => setTimeout(r, 300));
      const stats = relay.connections[0].up;
      assert.ok(stats.pauses >= 1, `the relay never paused its sender: ${JSON.stringify(stats)}`);
      // One socket read (at most 64 KiB) may land on a full queue.
      assert.ok(stats.maxQueued <= queueLimitBytes(FAST) + 64 * 1024, `queue grew past its limit: ${JSON.stringify(stats)}`);
      assert.ok(full, 'the sender never saw backpressure');
      client.end();
      const got = readAll(server);
      server.resume();
      assert.strictEqual(sha(await got), sha(data));
    } finally {
      await relay.close();
      t.server.close();
    }
  });

  it('closes the client at once when the target refuses', async () => {
    const t = await target();
    const port = t.port;
    await new Promise((r) => t.server.close(r));
    const relay = await LinkRelay.start({ host: '127.0.0.1', port }, FAST);
    try {
      const client = net.connect(relay.port, '127.0.0.1');
      client.on('error', () => undefined);
      await new Promise<void>((r) => client.once('close', () => r()));
    } finally {
      await relay.close();
    }
  });
});
