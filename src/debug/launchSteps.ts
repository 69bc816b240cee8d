// The launch as a list of named steps: each reports its progress line, is timed into one of the
// breakdown's buckets, and is a cancel point. Keeps the launcher readable as a pipeline.
import { errors } from '../common/errors';

export interface StepTimings {
  [bucket: string]: number;
}

export class LaunchSteps {
  readonly timings: StepTimings = {};

  constructor(
    private readonly signal: AbortSignal,
    private readonly progress: (step: string) => void,
  ) {}

  /** Runs one step; its time is added to `bucket` (several steps may share one, e.g. "checks"). */
  async run<T>(bucket: string, title: string, step: () => Promise<T>): Promise<T> {
    this.cancelPoint();
    this.progress(title);
    const started = Date.now();
    try {
      return await step();
    } finally {
      this.timings[bucket] = (this.timings[bucket] ?? 0) + (Date.now() - started) / 1000;
    }
  }

  cancelPoint(): void {
    if (this.signal.aborted) {
      throw errors.cancelled();
    }
  }
}
