// "Cordon the node while debugging": spec.unschedulable through the API, with an annotation saying we
// did it, so the uncordon (on restore, the Restore command, or the next start after a crash) undoes
// only our own cordon and never one an admin set.
import type { KubeApi, RequestLimits } from './kubeApi';
import { CORDON_ANNOTATION, CordonMark, NodeObject, parseCordonMark } from './clusterNodes';

const nodePath = (name: string) => `/api/v1/nodes/${encodeURIComponent(name)}`;

export type CordonOutcome = 'cordoned' | 'alreadyUnschedulable';

/** Cordons the node unless it already is (then it is left as the admin set it, and not marked as ours). */
export async function cordonNode(api: KubeApi, node: string, mark: CordonMark, limits?: RequestLimits): Promise<CordonOutcome> {
  const current = (await api.get(nodePath(node), limits)) as NodeObject;
  if (current.spec?.unschedulable && !parseCordonMark(current.metadata?.annotations?.[CORDON_ANNOTATION])) {
    return 'alreadyUnschedulable';
  }
  await api.mergePatch(
    nodePath(node),
    { spec: { unschedulable: true }, metadata: { annotations: { [CORDON_ANNOTATION]: JSON.stringify(mark) } } },
    limits,
  );
  return 'cordoned';
}

export type UncordonOutcome = 'uncordoned' | 'notOurs' | 'nodeGone';

/** Uncordons the node if our annotation is on it; an admin's cordon (no annotation) stays. */
export async function uncordonNode(api: KubeApi, node: string, limits?: RequestLimits): Promise<UncordonOutcome> {
  let current: NodeObject;
  try {
    current = (await api.get(nodePath(node), limits)) as NodeObject;
  } catch (err) {
    if (/HTTP 404/.test((err as Error).message)) {
      return 'nodeGone';
    }
    throw err;
  }
  if (!parseCordonMark(current.metadata?.annotations?.[CORDON_ANNOTATION])) {
    return 'notOurs';
  }
  await api.mergePatch(nodePath(node), { spec: { unschedulable: null }, metadata: { annotations: { [CORDON_ANNOTATION]: null } } }, limits);
  return 'uncordoned';
}
