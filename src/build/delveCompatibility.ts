// Which Go versions a Delve release can debug. Each Delve minor supports a window of Go minors; a
// binary outside it fails in confusing ways, so we check before the kubelet is touched.
import { goMinor } from './goBuildInfo';

/** Known windows, from Delve's release notes: Delve minor → [oldest Go minor, newest Go minor]. */
const KNOWN: Record<number, [number, number]> = {
  20: [18, 20],
  21: [19, 21],
  22: [20, 22],
  23: [21, 23],
  24: [21, 24],
  25: [22, 25],
  26: [23, 26],
  27: [25, 27],
};

export interface DelveVersion {
  version: string;
  minor: number;
}

/** Parses `dlv version`: "Delve Debugger\nVersion: 1.20.2\nBuild: …". */
export function parseDelveVersion(output: string): DelveVersion | undefined {
  const m = /Version:\s*v?1\.(\d+)\.(\d+)/.exec(output);
  return m ? { version: `1.${m[1]}.${m[2]}`, minor: Number(m[1]) } : undefined;
}

export function supportedGoWindow(delveMinor: number): [number, number] {
  // For releases newer than this table, Delve's habit of covering the latest three Go minors.
  return KNOWN[delveMinor] ?? [delveMinor - 2, delveMinor];
}

export type Compatibility = { ok: true } | { ok: false; reason: string; suggestion: string };

export function checkDelveSupportsGo(delve: DelveVersion, goVersion: string): Compatibility {
  const go = goMinor(goVersion);
  if (!go || go[0] !== 1) {
    return { ok: true }; // devel toolchains: let Delve decide.
  }
  const [low, high] = supportedGoWindow(delve.minor);
  if (go[1] >= low && go[1] <= high) {
    return { ok: true };
  }
  const wanted = Object.entries(KNOWN).find(([, [l, h]]) => go[1] >= l && go[1] <= h)?.[0];
  const suggestion = wanted ? `Delve 1.${wanted}.x or newer that still supports Go 1.${go[1]}` : `a Delve release that supports Go 1.${go[1]}`;
  return {
    ok: false,
    reason: `Delve ${delve.version} on the node debugs binaries built by Go 1.${low} to 1.${high}, but this kubelet was built by ${goVersion}`,
    suggestion,
  };
}
