// The cordons this machine made and has not undone yet. The VS Code side keeps them in the
// extension's global state, so a restore, the Restore command, or the next start after a crashed
// extension host can uncordon the node even though the session that cordoned it is gone.
import * as os from 'os';
import type { Logger } from '../common/logger';
import { uncordonNode, UncordonOutcome } from './cordon';
import type { KubeApi } from './kubeApi';

export interface CordonRecord {
  context: string;
  /** The kubeconfig file the context came from. */
  kubeconfig: string;
  node: string;
  /** The SSH target the session debugged. */
  host: string;
  sessionId: string;
  /** The extension host that cordoned, on `machine`: while it lives, the cordon is its session's. */
  pid: number;
  machine: string;
  since: string;
}

export interface CordonRecordStore {
  all(): CordonRecord[];
  add(record: CordonRecord): Promise<void>;
  remove(sessionId: string): Promise<void>;
}

/** True while the extension host that made the record still runs (another window's live session). */
export function recordOwnerAlive(r: CordonRecord, self = process.pid, machine = os.hostname()): boolean {
  if (r.machine !== machine || r.pid === self) {
    return false;
  }
  try {
    process.kill(r.pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Uncordons and forgets one record; a failure keeps the record for the next try. */
export async function undoCordon(store: CordonRecordStore, record: CordonRecord, api: KubeApi, log: Logger): Promise<UncordonOutcome> {
  const outcome = await uncordonNode(api, record.node, { timeoutMs: 15_000 });
  log.info(
    outcome === 'uncordoned'
      ? `Uncordoned ${record.node} (context ${record.context}).`
      : outcome === 'notOurs'
        ? `${record.node} (context ${record.context}) no longer carries our cordon; left as it is.`
        : `${record.node} (context ${record.context}) no longer exists.`,
  );
  await store.remove(record.sessionId);
  return outcome;
}

/**
 * At start-up: every recorded cordon whose extension host is gone (crashed, killed) is undone.
 * Returns what could not be undone, with why, so the view can mark those nodes.
 */
export async function undoLeftoverCordons(
  store: CordonRecordStore,
  apiFor: (r: CordonRecord) => KubeApi | undefined,
  log: Logger,
  ownerAlive: (r: CordonRecord) => boolean = recordOwnerAlive,
): Promise<{ record: CordonRecord; error: string }[]> {
  const failed: { record: CordonRecord; error: string }[] = [];
  for (const record of store.all()) {
    if (ownerAlive(record)) {
      continue;
    }
    const api = apiFor(record);
    if (!api) {
      failed.push({ record, error: `context ${record.context} is no longer in ${record.kubeconfig}` });
      continue;
    }
    try {
      await undoCordon(store, record, api, log);
    } catch (err) {
      log.warn(`Could not uncordon ${record.node} (context ${record.context}): ${(err as Error).message}`);
      failed.push({ record, error: (err as Error).message });
    }
  }
  return failed;
}
