// The node's health as the control plane sees it while its kubelet is halted: the Ready condition
// (set by the node lifecycle controller once the lease is stale for its grace period) and the age of
// the node's lease in kube-node-lease. Also the wait for Ready after a restore.
import { errors } from '../common/errors';
import type { KubeApi, RequestLimits } from './kubeApi';
import { NodeObject, readyCondition, ReadyCondition } from './clusterNodes';

export interface NodeHealth {
  ready: ReadyCondition;
  /** Seconds since the kubelet last renewed its lease; undefined when there is no lease. */
  leaseAgeSeconds?: number;
  readAt: Date;
}

export async function readNodeHealth(api: KubeApi, node: string, limits?: RequestLimits): Promise<NodeHealth> {
  const [n, lease] = await Promise.all([
    api.get(`/api/v1/nodes/${encodeURIComponent(node)}`, limits) as Promise<NodeObject>,
    api.get(`/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${encodeURIComponent(node)}`, limits).catch(() => undefined),
  ]);
  const readAt = new Date();
  const renew = (lease as { spec?: { renewTime?: string } } | undefined)?.spec?.renewTime;
  return {
    ready: readyCondition(n),
    leaseAgeSeconds: renew ? Math.max(0, (readAt.getTime() - new Date(renew).getTime()) / 1000) : undefined,
    readAt,
  };
}

/** "NotReady since 12 s · lease 52 s old", for the halt timer. */
export function describeNodeHealth(h: NodeHealth, now = Date.now()): string {
  const since = h.ready.since ? Math.max(0, Math.round((now - h.ready.since.getTime()) / 1000)) : undefined;
  const state = h.ready.status === 'True' ? 'Ready' : h.ready.status === 'False' ? 'NotReady' : 'Ready unknown';
  const lease =
    h.leaseAgeSeconds !== undefined ? ` · lease ${Math.round(h.leaseAgeSeconds + (now - h.readAt.getTime()) / 1000)} s old` : '';
  return `${state}${since !== undefined ? ` since ${since} s` : ''}${lease}`;
}

/**
 * Follows the node's Ready condition through a session: when it stopped being Ready and when it was
 * Ready again, as the controller recorded them (lastTransitionTime), not when we happened to look.
 */
export class NotReadyTracker {
  private notReadySince?: Date;
  private readyAgainAt?: Date;

  observe(ready: ReadyCondition): void {
    if (ready.status !== 'True') {
      this.notReadySince ??= ready.since ?? new Date();
      this.readyAgainAt = undefined;
    } else if (this.notReadySince && !this.readyAgainAt) {
      this.readyAgainAt = ready.since ?? new Date();
    }
  }

  /** Seconds the node was not Ready, once it is Ready again; undefined if it never left Ready. */
  get notReadySeconds(): number | undefined {
    return this.notReadySince && this.readyAgainAt
      ? Math.max(0, (this.readyAgainAt.getTime() - this.notReadySince.getTime()) / 1000)
      : undefined;
  }

  get wasNotReady(): boolean {
    return this.notReadySince !== undefined;
  }
}

export interface ReadyWait {
  ready: boolean;
  /** How long the node was not Ready in this session (known once it is Ready again). */
  notReadySeconds?: number;
  waitedSeconds: number;
  last?: ReadyCondition;
}

/** Polls until the node is Ready or the limit passes; aborting rejects with Cancelled. */
export async function waitForNodeReady(
  api: KubeApi,
  node: string,
  o: { timeoutMs: number; signal?: AbortSignal; tracker?: NotReadyTracker; pollMs?: number },
): Promise<ReadyWait> {
  const started = Date.now();
  const tracker = o.tracker ?? new NotReadyTracker();
  let last: ReadyCondition | undefined;
  for (;;) {
    if (o.signal?.aborted) {
      throw errors.cancelled();
    }
    try {
      const left = o.timeoutMs - (Date.now() - started);
      last = readyCondition(
        (await api.get(`/api/v1/nodes/${encodeURIComponent(node)}`, {
          signal: o.signal,
          timeoutMs: Math.max(1000, Math.min(10_000, left)),
        })) as NodeObject,
      );
      tracker.observe(last);
      if (last.status === 'True') {
        return { ready: true, notReadySeconds: tracker.notReadySeconds, waitedSeconds: (Date.now() - started) / 1000, last };
      }
    } catch {
      if (o.signal?.aborted) {
        throw errors.cancelled();
      }
      // A request that failed is one poll lost; the limit still ends the wait.
    }
    if (Date.now() - started >= o.timeoutMs) {
      return { ready: false, waitedSeconds: (Date.now() - started) / 1000, last };
    }
    await sleep(o.pollMs ?? 1000, o.signal);
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
