// What a debug session does with the cluster its node belongs to: cordon it (recorded, so it is
// undone even after a crash), follow its Ready condition and lease while the kubelet is halted, and
// after the restore uncordon it and wait until it is Ready again. No VS Code imports.
import * as os from 'os';
import type { Logger } from '../common/logger';
import { cordonNode, CordonOutcome } from './cordon';
import type { CordonRecord, CordonRecordStore } from './cordonRecords';
import { undoCordon } from './cordonRecords';
import type { UncordonOutcome } from './cordon';
import type { KubeApi } from './kubeApi';
import { NodeHealth, NotReadyTracker, readNodeHealth, ReadyWait, waitForNodeReady } from './nodeHealth';

export interface ClusterRestoreReport {
  uncordon?: UncordonOutcome | { error: string };
  ready?: ReadyWait | { error: string };
}

/** Wait for Ready after a restore: a v1.20 kubelet posts Ready within seconds of its start; leave room for a slow node. */
export const DEFAULT_READY_WAIT_SECONDS = 120;

export class ClusterSession {
  readonly tracker = new NotReadyTracker();
  private record?: CordonRecord;

  constructor(
    readonly api: KubeApi,
    readonly node: string,
    readonly host: string,
    private readonly store: CordonRecordStore,
    private readonly log: Logger,
  ) {}

  get cordoned(): boolean {
    return this.record !== undefined;
  }

  /** Cordons the node, recording it first (a crash between the two leaves a record that finds nothing to undo, never the reverse). */
  async cordon(sessionId: string, signal?: AbortSignal): Promise<CordonOutcome> {
    const by = `${safeUser()}@${os.hostname()} (VS Code, pid ${process.pid})`;
    const record: CordonRecord = {
      context: this.api.context.name,
      kubeconfig: this.api.context.file,
      node: this.node,
      host: this.host,
      sessionId,
      pid: process.pid,
      machine: os.hostname(),
      since: new Date().toISOString(),
    };
    await this.store.add(record);
    let outcome: CordonOutcome;
    try {
      outcome = await cordonNode(this.api, this.node, { by, since: record.since, sessionId }, { signal, timeoutMs: 15_000 });
    } catch (err) {
      await this.store.remove(sessionId);
      throw err;
    }
    if (outcome === 'cordoned') {
      this.record = record;
      this.log.info(`Cordoned ${this.node} (context ${this.api.context.name}) while debugging.`);
    } else {
      await this.store.remove(sessionId);
      this.log.info(`${this.node} was already unschedulable (cordoned by someone else); it is left as it is.`);
    }
    return outcome;
  }

  /** Undoes our cordon, if any; safe to call twice. */
  async uncordon(): Promise<UncordonOutcome | undefined> {
    const record = this.record;
    if (!record) {
      return undefined;
    }
    const outcome = await undoCordon(this.store, record, this.api, this.log);
    this.record = undefined;
    return outcome;
  }

  async health(signal?: AbortSignal): Promise<NodeHealth> {
    const health = await readNodeHealth(this.api, this.node, { signal, timeoutMs: 10_000 });
    this.tracker.observe(health.ready);
    return health;
  }

  /** After the unit is restored: uncordon, then wait for Ready. Failures are reported, not thrown (the node itself is restored). */
  async afterRestore(o: { timeoutMs: number; signal?: AbortSignal }): Promise<ClusterRestoreReport> {
    const report: ClusterRestoreReport = {};
    if (this.record) {
      report.uncordon = await this.uncordon().catch((err: Error) => ({ error: err.message }));
    }
    report.ready = await waitForNodeReady(this.api, this.node, { timeoutMs: o.timeoutMs, signal: o.signal, tracker: this.tracker }).catch(
      (err: Error) => ({ error: err.message }),
    );
    return report;
  }
}

/** The report's sentences about the cluster, for the Debug Console and the notification. */
export function describeClusterRestore(node: string, r: ClusterRestoreReport, limitSeconds: number): { notes: string[]; ok: boolean } {
  const notes: string[] = [];
  let ok = true;
  if (r.uncordon) {
    if (typeof r.uncordon === 'object') {
      ok = false;
      notes.push(
        `Uncordoning ${node} failed (${r.uncordon.error}); it stays marked in the Nodes view, and the next start of VS Code tries again (or run kubectl uncordon ${node}).`,
      );
    } else if (r.uncordon === 'uncordoned') {
      notes.push(`${node} is uncordoned.`);
    }
  }
  if (r.ready) {
    if ('error' in r.ready) {
      ok = false;
      notes.push(`Whether ${node} is Ready again could not be read: ${r.ready.error}`);
    } else if (!r.ready.ready) {
      ok = false;
      notes.push(
        `${node} was not Ready within ${limitSeconds} s of the restore (Ready ${r.ready.last?.status ?? 'unknown'}${r.ready.last?.reason ? `, ${r.ready.last.reason}` : ''}); check the kubelet's journal.`,
      );
    } else {
      const down = r.ready.notReadySeconds;
      notes.push(
        down !== undefined
          ? `${node} is Ready again; it was NotReady for ${Math.round(down)} s.`
          : `${node} is Ready; it did not turn NotReady during the session.`,
      );
    }
  }
  return { notes, ok };
}

function safeUser(): string {
  try {
    return os.userInfo().username;
  } catch {
    return 'someone';
  }
}
