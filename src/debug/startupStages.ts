// The kubelet's start-up chain, in the order it runs, with the fully qualified Go names Delve needs
// for function breakpoints. Names move between Kubernetes versions, so callers check each one
// against the functions the binary really has.

export const STARTUP_STAGES = [
  { stage: 'NewKubeletCommand', func: 'k8s.io/kubernetes/cmd/kubelet/app.NewKubeletCommand' },
  { stage: 'Run', func: 'k8s.io/kubernetes/cmd/kubelet/app.Run' },
  { stage: 'RunKubelet', func: 'k8s.io/kubernetes/cmd/kubelet/app.RunKubelet' },
  { stage: 'createAndInitKubelet', func: 'k8s.io/kubernetes/cmd/kubelet/app.createAndInitKubelet' },
  { stage: 'startKubelet', func: 'k8s.io/kubernetes/cmd/kubelet/app.startKubelet' },
  { stage: '(*Kubelet).Run', func: 'k8s.io/kubernetes/pkg/kubelet.(*Kubelet).Run' },
  { stage: 'initializeModules', func: 'k8s.io/kubernetes/pkg/kubelet.(*Kubelet).initializeModules' },
  { stage: 'fastStatusUpdateOnce', func: 'k8s.io/kubernetes/pkg/kubelet.(*Kubelet).fastStatusUpdateOnce' },
  { stage: 'updateRuntimeUp', func: 'k8s.io/kubernetes/pkg/kubelet.(*Kubelet).updateRuntimeUp' },
  { stage: 'syncLoop', func: 'k8s.io/kubernetes/pkg/kubelet.(*Kubelet).syncLoop' },
  { stage: 'syncLoopIteration', func: 'k8s.io/kubernetes/pkg/kubelet.(*Kubelet).syncLoopIteration' },
  { stage: 'SyncPod', func: 'k8s.io/kubernetes/pkg/kubelet.(*Kubelet).SyncPod' },
] as const;

export type StartupStage = (typeof STARTUP_STAGES)[number]['stage'];

export const STAGE_NAMES: readonly StartupStage[] = STARTUP_STAGES.map((s) => s.stage);

export function functionForStage(stage: string): string | undefined {
  return STARTUP_STAGES.find((s) => s.stage === stage)?.func;
}

/** The stages whose function exists in the binary, in start-up order. */
export function availableStages(binaryFunctions: readonly string[]): (typeof STARTUP_STAGES)[number][] {
  const have = new Set(binaryFunctions);
  return STARTUP_STAGES.filter((s) => have.has(s.func));
}
