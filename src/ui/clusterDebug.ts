// The debug flow's cluster steps, VS Code side: before the kubelet is halted, the node's pods and the
// offer to cordon it; after the restore, the uncordon and the wait for Ready (with a cancellable
// progress), whose outcome goes into the session's report; the Restore command's uncordon; and at
// start-up, the cordons a crashed window left behind.
import { randomBytes } from 'crypto';
import * as vscode from 'vscode';
import { podsOnNode } from '../cluster/clusterNodes';
import { ClusterSession, DEFAULT_READY_WAIT_SECONDS, describeClusterRestore } from '../cluster/clusterSession';
import { undoCordon, undoLeftoverCordons } from '../cluster/cordonRecords';
import type { RestoreReport } from '../debug/kubeletLauncher';
import type { Services } from '../services';
import { asLogger } from './logChannels';

export interface PreparedCluster {
  session: ClusterSession;
  serverVersion?: string;
  /** Cordon once the launch starts (asked, or `kubelet.cluster.cordon` is "always"). */
  cordon: boolean;
  sessionId: string;
}

/**
 * The cluster node `host` reaches, with the user's cordon choice. Undefined when no known cluster has
 * it (or the clusters cannot be read: that must never block debugging); 'cancelled' when the user
 * dismissed the question.
 */
export async function prepareClusterSession(host: string, services: Services): Promise<PreparedCluster | 'cancelled' | undefined> {
  const log = services.logs.debug;
  const found = await services.clusters.findByHost(host).catch((err: Error) => {
    log.warn(`Could not look ${host} up in the kubeconfig's clusters: ${err.message}`);
    return undefined;
  });
  if (!found) {
    return undefined;
  }
  const node = found.view.node;
  const api = services.clusters.api(found.context);
  const session = new ClusterSession(api, node.name, host, services.clusters, asLogger(log));
  const sessionId = randomBytes(6).toString('hex');
  const setting = vscode.workspace.getConfiguration('kubelet').get<'ask' | 'always' | 'never'>('cluster.cordon', 'ask');
  if (setting !== 'ask' || node.unschedulable) {
    // An admin's cordon is left alone; "always" and "never" do not ask.
    return { session, serverVersion: found.serverVersion, cordon: setting === 'always' && !node.unschedulable, sessionId };
  }
  const pods = await podsOnNode(api, node.name, { timeoutMs: 10_000 }).catch((err: Error) => {
    log.warn(`Could not list the pods on ${node.name}: ${err.message}`);
    return undefined;
  });
  const cordon = vscode.l10n.t('Cordon the node while debugging');
  const without = vscode.l10n.t('Debug without cordoning');
  const shown = (pods ?? []).slice(0, 20);
  const detail = [
    pods === undefined
      ? vscode.l10n.t('The pods on {0} could not be listed.', node.name)
      : vscode.l10n.t('{0} pods run on {1} (context {2}):', pods.length, node.name, found.context.name),
    ...shown.map((p) => `  ${p}`),
    ...(pods && pods.length > shown.length ? [vscode.l10n.t('  … and {0} more', pods.length - shown.length)] : []),
    '',
    vscode.l10n.t(
      'While the kubelet is halted they keep running, but nobody reports their status, and after about 40 s the node turns NotReady. Cordoning stops new pods from being scheduled here; it is undone when the node is restored.',
    ),
  ].join('\n');
  const choice = await vscode.window.showWarningMessage(
    vscode.l10n.t('Halt the kubelet of cluster node {0}?', node.name),
    { modal: true, detail },
    cordon,
    without,
  );
  if (!choice) {
    return 'cancelled';
  }
  return { session, serverVersion: found.serverVersion, cordon: choice === cordon, sessionId };
}

/**
 * Makes the target's restore also uncordon the node (its outcome is in the session's report), then
 * wait until the node is Ready again. VS Code ends a session a few seconds after its disconnect, so
 * the wait runs on beside it, with a cancellable progress notification, and its outcome (how long the
 * node was NotReady, or that it is not Ready within the limit) is reported in a notification.
 */
export function withClusterRestore(
  restore: () => Promise<RestoreReport>,
  prepared: PreparedCluster,
  services: Services,
): () => Promise<RestoreReport> {
  return async () => {
    const report = await restore();
    const node = prepared.session.node;
    const uncordon = await prepared.session.uncordon().catch((err: Error) => ({ error: err.message }));
    const uncordoned = describeClusterRestore(node, uncordon ? { uncordon } : {}, 0);
    const seconds = vscode.workspace.getConfiguration('kubelet').get<number>('cluster.readyWaitSeconds', DEFAULT_READY_WAIT_SECONDS);
    services.clusters.refresh();
    if (seconds > 0 && report.activeState === 'active') {
      void reportWhenReady(prepared, seconds, report.mainPid, services);
    }
    const waiting =
      seconds > 0 && report.activeState === 'active'
        ? [vscode.l10n.t('Waiting up to {0} s for {1} to be Ready again.', seconds, node)]
        : [];
    return {
      ...report,
      notes: [...(report.notes ?? []), ...uncordoned.notes, ...waiting],
      problems: uncordoned.ok ? report.problems : [...(report.problems ?? []), ...uncordoned.notes],
    };
  };
}

/** The wait for Ready after a restore, and its outcome as a notification (and in the log). */
async function reportWhenReady(prepared: PreparedCluster, seconds: number, pid: number, services: Services): Promise<void> {
  const node = prepared.session.node;
  const log = services.logs.debug;
  const outcome = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Waiting for {0} to be Ready', node), cancellable: true },
    async (_progress, token) => {
      const abort = new AbortController();
      const sub = token.onCancellationRequested(() => abort.abort());
      try {
        return await prepared.session.afterRestore({ timeoutMs: seconds * 1000, signal: abort.signal });
      } finally {
        sub.dispose();
      }
    },
  );
  services.clusters.refresh();
  if (outcome.ready && 'error' in outcome.ready && /Cancelled/.test(outcome.ready.error)) {
    log.info(`Stopped waiting for ${node} to be Ready.`);
    return;
  }
  const { notes, ok } = describeClusterRestore(node, { ready: outcome.ready }, seconds);
  const message = vscode.l10n.t('The kubelet on {0} was restored (PID {1}). {2}', prepared.session.host, pid, notes.join(' '));
  log.info(message);
  void (ok ? vscode.window.showInformationMessage(message) : vscode.window.showWarningMessage(message));
}

/** "Restore kubelet on node": the cordons this machine recorded for that SSH target are undone too. */
export async function uncordonForHost(host: string, services: Services): Promise<string[]> {
  const notes: string[] = [];
  for (const record of services.clusters.all().filter((r) => r.host === host)) {
    const context = services.clusters.contextByName(record.context, record.kubeconfig);
    if (!context) {
      notes.push(vscode.l10n.t('{0} stays cordoned: context {1} is no longer in {2}.', record.node, record.context, record.kubeconfig));
      continue;
    }
    try {
      const outcome = await undoCordon(services.clusters, record, services.clusters.api(context), asLogger(services.logs.debug));
      if (outcome === 'uncordoned') {
        notes.push(vscode.l10n.t('{0} is uncordoned.', record.node));
      }
    } catch (err) {
      notes.push(vscode.l10n.t('Uncordoning {0} failed: {1}', record.node, (err as Error).message));
    }
  }
  if (notes.length) {
    services.clusters.refresh();
  }
  return notes;
}

/**
 * At activation: undo the cordons of windows that are gone (a crashed or killed extension host).
 * Settles (never rejects) once every record was tried.
 */
export function undoLeftoverCordonsAtStart(services: Services): Promise<void> {
  if (services.clusters.all().length === 0) {
    return Promise.resolve();
  }
  const log = asLogger(services.logs.debug);
  return undoLeftoverCordons(
    services.clusters,
    (r) => {
      const context = services.clusters.contextByName(r.context, r.kubeconfig);
      return context ? services.clusters.api(context) : undefined;
    },
    log,
  ).then(
    (failed) => {
      services.clusters.refresh();
      for (const f of failed) {
        void vscode.window.showWarningMessage(
          vscode.l10n.t(
            '{0} (context {1}) was cordoned by a debug session that ended with VS Code, and could not be uncordoned: {2}. Run kubectl uncordon {0}.',
            f.record.node,
            f.record.context,
            f.error,
          ),
        );
      }
    },
    (err: Error) => log.warn(`Undoing leftover cordons failed: ${err.message}`),
  );
}
