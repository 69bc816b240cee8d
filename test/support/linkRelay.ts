// A user-space TCP relay that makes a loopback port behave like a slower, longer link to a node's sshd:
// a one-way delay and a paced rate in each direction, in order, with backpressure (a bounded queue that
// pauses the sender). The kernel here has no netem, so the bench and the tests put this in front of port 22.
import * as net from 'net';

export interface LinkProfile {
  name: string;
  /** Bits per second in each direction; undefined for no limit. */
  rateBitsPerSecond?: number;
  /** Round-trip time added by the relay (half each way). */
  rttMs: number;
}

export const LINK_PROFILES: Record<'lan' | 'cloud' | 'far', LinkProfile> = {
  lan: { name: 'lan', rttMs: 0 },
  cloud: { name: 'cloud', rateBitsPerSecond: 50e6, rttMs: 20 },
  far: { name: 'far', rateBitsPerSecond: 10e6, rttMs: 100 },
};

export function linkProfile(name: string): LinkProfile {
  const p = (LINK_PROFILES as Record<string, LinkProfile>)[name];
  if (!p) {
    throw new Error(`Unknown link profile '${name}'; use one of ${Object.keys(LINK_PROFILES).join(', ')}.`);
  }
  return p;
}

/** Bytes handed to the receiving socket at once: a fine enough grain for pacing at 10–50 Mbit/s. */
export const SLICE_BYTES = 16 * 1024;

/** One direction's clock: when its wire is free again (ms, the same clock as `now`). */
export interface PacerState {
  wireFreeAt: number;
}

/**
 * When `bytes` that arrive at `now` reach the far end: they wait for the wire (earlier bytes keep their
 * place), take bytes/rate to send, then the one-way delay. Pure, so the schedule is tested without a clock.
 */
export function scheduleSlice(state: PacerState, now: number, bytes: number, profile: LinkProfile): number {
  const start = Math.max(now, state.wireFreeAt);
  const sendMs = profile.rateBitsPerSecond ? (bytes * 8 * 1000) / profile.rateBitsPerSecond : 0;
  state.wireFreeAt = start + sendMs;
  return state.wireFreeAt + profile.rttMs / 2;
}

/**
 * Bytes one direction may hold before it pauses its sender: what is on the wire (rate × delay) plus a
 * router's queue, so the relay never throttles below its rate and never buffers without limit.
 */
export function queueLimitBytes(profile: LinkProfile): number {
  const inFlight = profile.rateBitsPerSecond ? (profile.rateBitsPerSecond / 8) * (profile.rttMs / 2 / 1000) : 0;
  return Math.ceil(inFlight) + 256 * 1024;
}

export interface DirectionStats {
  bytes: number;
  /** The most bytes this direction held at once (never more than queueLimitBytes + one read). */
  maxQueued: number;
  /** How often the sender was paused because the queue was full. */
  pauses: number;
}

/** Moves one direction of a connection: from `source` to `sink`, paced and delayed. */
class Direction {
  readonly stats: DirectionStats = { bytes: 0, maxQueued: 0, pauses: 0 };
  private readonly queue: { data: Buffer; due: number }[] = [];
  private queued = 0;
  private readonly pacer: PacerState = { wireFreeAt: 0 };
  private timer: NodeJS.Timeout | undefined;
  private sinkFull = false;
  private sourceEnded = false;
  private paused = false;
  private readonly limit: number;

  constructor(
    private readonly source: net.Socket,
    private readonly sink: net.Socket,
    private readonly profile: LinkProfile,
  ) {
    this.limit = queueLimitBytes(profile);
    source.on('data', (chunk: Buffer) => this.onData(chunk));
    source.on('end', () => {
      this.sourceEnded = true;
      this.flush();
    });
    sink.on('drain', () => {
      this.sinkFull = false;
      this.flush();
    });
  }

  private onData(chunk: Buffer): void {
    const now = performance.now();
    for (let off = 0; off < chunk.length; off += SLICE_BYTES) {
      const data = chunk.subarray(off, off + SLICE_BYTES);
      this.queue.push({ data, due: scheduleSlice(this.pacer, now, data.length, this.profile) });
      this.queued += data.length;
    }
    this.stats.maxQueued = Math.max(this.stats.maxQueued, this.queued);
    if (this.queued >= this.limit && !this.paused) {
      this.paused = true;
      this.stats.pauses++;
      this.source.pause();
    }
    this.flush();
  }

  private flush(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const now = performance.now();
    while (this.queue.length > 0 && !this.sinkFull && this.queue[0].due <= now) {
      const { data } = this.queue.shift()!;
      this.queued -= data.length;
      this.stats.bytes += data.length;
      if (this.sink.destroyed) {
        return;
      }
      this.sinkFull = !this.sink.write(data);
    }
    if (this.paused && this.queued < this.limit / 2) {
      this.paused = false;
      this.source.resume();
    }
    if (this.queue.length > 0) {
      if (!this.sinkFull) {
        this.timer = setTimeout(() => this.flush(), Math.max(0, this.queue[0].due - now));
      }
    } else if (this.sourceEnded && !this.sink.destroyed) {
      this.sink.end();
    }
  }

  stop(): void {
    clearTimeout(this.timer);
    this.queue.length = 0;
  }
}

export interface RelayConnectionStats {
  up: DirectionStats;
  down: DirectionStats;
}

export class LinkRelay {
  private readonly sockets = new Set<net.Socket>();
  /** Per shaped connection (not "lan"), finished or open, in the order they were accepted. */
  readonly connections: RelayConnectionStats[] = [];

  private constructor(
    private readonly server: net.Server,
    readonly port: number,
    readonly profile: LinkProfile,
  ) {}

  /** Listens on 127.0.0.1 (a free port) and relays each connection to `target`. */
  static async start(target: { host: string; port: number }, profile: LinkProfile): Promise<LinkRelay> {
    let relay: LinkRelay | undefined;
    const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true }, (client) => relay!.accept(client, target));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    relay = new LinkRelay(server, (server.address() as net.AddressInfo).port, profile);
    return relay;
  }

  private accept(client: net.Socket, target: { host: string; port: number }): void {
    const upstream = net.connect({ host: target.host, port: target.port, allowHalfOpen: true });
    for (const s of [client, upstream]) {
      this.sockets.add(s);
      s.setNoDelay(true);
      s.on('close', () => this.sockets.delete(s));
    }
    // A reset or error on either side ends both, as a dropped link would.
    const kill = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', kill);
    upstream.on('error', kill);
    if (!this.profile.rateBitsPerSecond && !this.profile.rttMs) {
      // "lan": no shaping, just the relay's own cost.
      client.pipe(upstream);
      upstream.pipe(client);
      client.resume();
    } else {
      const up = new Direction(client, upstream, this.profile);
      const down = new Direction(upstream, client, this.profile);
      this.connections.push({ up: up.stats, down: down.stats });
      upstream.once('connect', () => client.resume());
      const stop = () => {
        up.stop();
        down.stop();
      };
      // A clean close lets the other direction deliver what it holds (it ends its sink when done).
      client.once('close', (hadError) => (hadError ? (stop(), upstream.destroy()) : undefined));
      upstream.once('close', (hadError) => (hadError ? (stop(), client.destroy()) : undefined));
    }
  }

  async close(): Promise<void> {
    for (const s of this.sockets) {
      s.destroy();
    }
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
