// Picks the `make` command that gives a debuggable kubelet for a given Kubernetes tree. Kubernetes
// only honours DBG=1 from v1.24; older trees (v1.20 among them) need GOLDFLAGS="" and
// GOGCFLAGS="all=-N -l" instead, and newer ones must not get GOGCFLAGS too, since it is spliced
// into the same -gcflags value. The tree's own hack/lib/golang.sh says which kind it is.

export interface DebugBuildChoice {
  command: string;
  /** Why this command, for the log and the build task's title. */
  reason: string;
}

const TARGET = 'make WHAT=cmd/kubelet';
const PLATFORM = 'KUBE_BUILD_PLATFORMS=linux/${arch}';

export function chooseDebugBuildCommand(golangSh: string | undefined): DebugBuildChoice {
  if (golangSh === undefined) {
    return {
      command: `${TARGET} DBG=1 ${PLATFORM}`,
      reason: 'the tree has no hack/lib/golang.sh, so its Makefile decides what DBG=1 means',
    };
  }
  if (honoursDbg(golangSh)) {
    return { command: `${TARGET} DBG=1 ${PLATFORM}`, reason: 'hack/lib/golang.sh turns DBG=1 into -N -l and keeps DWARF' };
  }
  return {
    command: `${TARGET} GOLDFLAGS="" GOGCFLAGS="all=-N -l" ${PLATFORM}`,
    reason: 'hack/lib/golang.sh ignores DBG (Kubernetes before v1.24) and strips with -s -w unless GOLDFLAGS is set',
  };
}

/** A test of DBG in the build script's code (comments do not count). */
function honoursDbg(golangSh: string): boolean {
  return golangSh
    .split('\n')
    .map((line) => line.replace(/(^|\s)#.*$/, ''))
    .some((line) => /\$\{DBG(:-)?\}|\$DBG\b/.test(line) && /\[\[|\btest\b|\[ /.test(line));
}
