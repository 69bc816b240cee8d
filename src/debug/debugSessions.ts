// The one owner of this window's kubelet debug sessions: targets prepared while VS Code resolves a
// configuration (claimed by id when the adapter starts, restored if nobody does), and the live
// sessions with the node they hold and the functions their binary has. No VS Code imports.
import { randomBytes } from 'crypto';
import type { Logger } from '../common/logger';
import type { DebugTarget } from './kubeletLauncher';

const CLAIM_TIMEOUT_MS = 60_000;

interface LiveSession {
  host: string;
  functions: string[];
}

export class DebugSessions {
  private readonly prepared = new Map<string, { target: DebugTarget; timer: NodeJS.Timeout }>();
  private readonly live = new Map<string, LiveSession>();
  private readonly endWaiters = new Set<() => void>();

  constructor(private readonly log: Logger) {}

  /** Keeps a launched target until its adapter claims it; returns the id that travels in the resolved configuration. */
  addPrepared(target: DebugTarget): string {
    const id = randomBytes(8).toString('hex');
    const timer = setTimeout(() => {
      if (this.prepared.delete(id)) {
        this.log.warn(`The debug session for ${target.node.spec} never started; restoring the node.`);
        void target.restore().catch((e: Error) => this.log.error(e.message));
      }
    }, CLAIM_TIMEOUT_MS);
    this.prepared.set(id, { target, timer });
    return id;
  }

  claim(id: unknown): DebugTarget | undefined {
    const entry = typeof id === 'string' ? this.prepared.get(id) : undefined;
    if (!entry) {
      return undefined;
    }
    clearTimeout(entry.timer);
    this.prepared.delete(id as string);
    return entry.target;
  }

  started(sessionId: string, host: string, functions: string[]): void {
    this.live.set(sessionId, { host, functions });
  }

  /** The session restored its node (or gave up trying). */
  ended(sessionId: string): void {
    if (this.live.delete(sessionId)) {
      for (const wake of [...this.endWaiters]) {
        wake();
      }
    }
  }

  functionsOf(sessionId: string | undefined): string[] | undefined {
    return sessionId ? this.live.get(sessionId)?.functions : undefined;
  }

  hostsInUse(): Set<string> {
    return new Set([...this.live.values()].map((s) => s.host));
  }

  /** Resolves true once no live session holds `host`, false after `timeoutMs`. */
  waitUntilFree(host: string, timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const check = () => {
        if (!this.hostsInUse().has(host)) {
          done(true);
        }
      };
      const done = (free: boolean) => {
        clearTimeout(timer);
        this.endWaiters.delete(check);
        resolve(free);
      };
      const timer = setTimeout(() => done(false), timeoutMs);
      this.endWaiters.add(check);
      check();
    });
  }

  /** On deactivation: restore every target still waiting for its adapter. */
  async dispose(): Promise<void> {
    const entries = [...this.prepared.values()];
    this.prepared.clear();
    await Promise.all(
      entries.map(async ({ target, timer }) => {
        clearTimeout(timer);
        await target.restore().catch((e: Error) => this.log.error(e.message));
      }),
    );
  }
}
