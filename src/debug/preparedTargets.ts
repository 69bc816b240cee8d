// Launch work happens while VS Code resolves the configuration (so failures can show our own error
// with its remedies and cancel quietly); the adapter factory then claims the prepared target by id.
// A target nobody claims is restored, so an aborted start never leaves the node in debug mode.
import { randomBytes } from 'crypto';
import type { Logger } from '../common/logger';
import type { DebugTarget } from './kubeletLauncher';

const CLAIM_TIMEOUT_MS = 60_000;

export class PreparedTargets {
  private readonly targets = new Map<string, { target: DebugTarget; timer: NodeJS.Timeout }>();

  constructor(private readonly log: Logger) {}

  add(target: DebugTarget): string {
    const id = randomBytes(8).toString('hex');
    const timer = setTimeout(() => {
      if (this.targets.delete(id)) {
        this.log.warn(`The debug session for ${target.node.spec} never started; restoring the node.`);
        void target.restore().catch((e: Error) => this.log.error(e.message));
      }
    }, CLAIM_TIMEOUT_MS);
    this.targets.set(id, { target, timer });
    return id;
  }

  claim(id: string | undefined): DebugTarget | undefined {
    const entry = id ? this.targets.get(id) : undefined;
    if (!entry) {
      return undefined;
    }
    clearTimeout(entry.timer);
    this.targets.delete(id!);
    return entry.target;
  }

  /** On deactivation: restore every target still waiting. */
  async dispose(): Promise<void> {
    const entries = [...this.targets.values()];
    this.targets.clear();
    await Promise.all(entries.map(async ({ target, timer }) => {
      clearTimeout(timer);
      await target.restore().catch((e: Error) => this.log.error(e.message));
    }));
  }
}
