// The kubelet's start-up chain, in the order it runs, with the fully qualified Go names Delve needs
// for function breakpoints. Names move between Kubernetes versions (v1.20 has (*Kubelet).syncPod,
// later ones SyncPod), so each stage lists every name it has had, and the binary's own function
// list decides which one is armed.

interface StageDefinition {
  stage: string;
  /** Newest name first. */
  funcs: readonly string[];
}

const APP = 'k8s.io/kubernetes/cmd/kubelet/app';
const KUBELET = 'k8s.io/kubernetes/pkg/kubelet.(*Kubelet)';

const DEFINITIONS = [
  { stage: 'NewKubeletCommand', funcs: [`${APP}.NewKubeletCommand`] },
  { stage: 'Run', funcs: [`${APP}.Run`] },
  { stage: 'RunKubelet', funcs: [`${APP}.RunKubelet`] },
  { stage: 'createAndInitKubelet', funcs: [`${APP}.createAndInitKubelet`] },
  { stage: 'startKubelet', funcs: [`${APP}.startKubelet`] },
  { stage: '(*Kubelet).Run', funcs: [`${KUBELET}.Run`] },
  { stage: 'initializeModules', funcs: [`${KUBELET}.initializeModules`] },
  { stage: 'fastStatusUpdateOnce', funcs: [`${KUBELET}.fastStatusUpdateOnce`] },
  { stage: 'updateRuntimeUp', funcs: [`${KUBELET}.updateRuntimeUp`] },
  { stage: 'syncLoop', funcs: [`${KUBELET}.syncLoop`] },
  { stage: 'syncLoopIteration', funcs: [`${KUBELET}.syncLoopIteration`] },
  { stage: 'SyncPod', funcs: [`${KUBELET}.SyncPod`, `${KUBELET}.syncPod`] },
] as const satisfies readonly StageDefinition[];

export type StartupStage = (typeof DEFINITIONS)[number]['stage'];

export interface ResolvedStage {
  stage: StartupStage;
  /** The name to give Delve. */
  func: string;
}

export const STARTUP_STAGES: readonly { stage: StartupStage; funcs: readonly string[] }[] = DEFINITIONS;

export const STAGE_NAMES: readonly StartupStage[] = DEFINITIONS.map((s) => s.stage);

/** Older spellings users may write in breakAt: the stage is the same. */
const ALIASES: Readonly<Record<string, StartupStage>> = { syncPod: 'SyncPod' };

export function canonicalStage(name: string): StartupStage | undefined {
  return (STAGE_NAMES as readonly string[]).includes(name) ? (name as StartupStage) : ALIASES[name];
}

/**
 * The function to break on for a stage: the first of its names that the binary has, or, without a
 * function list, the newest name.
 */
export function functionForStage(stage: string, binaryFunctions?: readonly string[]): string | undefined {
  const canonical = canonicalStage(stage);
  const def = DEFINITIONS.find((s) => s.stage === canonical);
  if (!def) {
    return undefined;
  }
  if (!binaryFunctions) {
    return def.funcs[0];
  }
  const have = new Set(binaryFunctions);
  return def.funcs.find((f) => have.has(f));
}

/** The stages whose function exists in the binary, in start-up order, each with the name it has there. */
export function availableStages(binaryFunctions: readonly string[]): ResolvedStage[] {
  return DEFINITIONS.flatMap((s) => {
    const func = functionForStage(s.stage, binaryFunctions);
    return func ? [{ stage: s.stage, func }] : [];
  });
}
