// Which Go versions a Delve release can debug, as Delve itself decides it (pkg/goversion/compat.go:
// MinSupportedVersionOfGoMinor/MaxSupportedVersionOfGoMinor), so we refuse before the node is touched
// and name the exact Delve release that would work.
import { goMinor } from './goBuildInfo';

/** One span of Delve releases sharing the same supported Go window. */
interface DelveRelease {
  /** Delve minor, e.g. 20 for 1.20.x. */
  minor: number;
  /** First and last patch of this minor with this window (inclusive). */
  patches: [number, number];
  /** Oldest and newest Go 1.x minor this release accepts. */
  go: [number, number];
}

/**
 * Go windows of every Delve release from 1.7.0 on, oldest first. Read from Delve's
 * pkg/goversion/compat.go as of each release (and the pull requests that changed it); the
 * minor numbers 1.10 to 1.19 were never released, Delve went from 1.9.1 to 1.20.0. Within a minor
 * the window changed once: 1.25.0 and 1.25.1 still said 1.21-1.24, 1.25.2 says 1.22-1.25.
 */
export const DELVE_RELEASES: readonly DelveRelease[] = [
  { minor: 7, patches: [0, 3], go: [15, 17] },
  { minor: 8, patches: [0, 3], go: [16, 18] },
  { minor: 9, patches: [0, 1], go: [17, 19] },
  { minor: 20, patches: [0, 2], go: [18, 20] },
  { minor: 21, patches: [0, 2], go: [19, 21] },
  { minor: 22, patches: [0, 1], go: [20, 22] },
  { minor: 23, patches: [0, 1], go: [21, 23] },
  { minor: 24, patches: [0, 2], go: [21, 24] },
  { minor: 25, patches: [0, 1], go: [21, 24] },
  { minor: 25, patches: [2, 2], go: [22, 25] },
  { minor: 26, patches: [0, 2], go: [24, 26] },
  { minor: 27, patches: [0, 2], go: [25, 27] },
];

export interface DelveVersion {
  version: string;
  minor: number;
  patch?: number;
}

/** Parses `dlv version`: "Delve Debugger\nVersion: 1.20.2\nBuild: …". */
export function parseDelveVersion(output: string): DelveVersion | undefined {
  const m = /Version:\s*v?1\.(\d+)\.(\d+)/.exec(output);
  return m ? { version: `1.${m[1]}.${m[2]}`, minor: Number(m[1]), patch: Number(m[2]) } : undefined;
}

/** The Go minors a Delve release accepts, or undefined for a release this table does not know. */
export function supportedGoWindow(delve: { minor: number; patch?: number }): [number, number] | undefined {
  const rows = DELVE_RELEASES.filter((r) => r.minor === delve.minor);
  if (rows.length === 0) {
    return undefined;
  }
  const patch = delve.patch;
  let row: DelveRelease | undefined;
  if (patch === undefined) {
    row = rows.length === 1 ? rows[0] : undefined; // the window differs by patch: we cannot tell.
  } else {
    // A patch newer than any we know keeps its minor's last window (patches do not drop Go versions).
    row =
      rows.find((r) => patch >= r.patches[0] && patch <= r.patches[1]) ??
      (patch > rows[rows.length - 1].patches[1] ? rows[rows.length - 1] : undefined);
  }
  return row ? [row.go[0], row.go[1]] : undefined;
}

/** The newest known Delve release that accepts Go 1.`goMinorVersion`, e.g. "1.20.2" for Go 1.18. */
export function newestDelveFor(goMinorVersion: number): string | undefined {
  for (let i = DELVE_RELEASES.length - 1; i >= 0; i--) {
    const r = DELVE_RELEASES[i];
    if (goMinorVersion >= r.go[0] && goMinorVersion <= r.go[1]) {
      return `1.${r.minor}.${r.patches[1]}`;
    }
  }
  return undefined;
}

/** True when the user's extra Delve flags turn Delve's own Go version check off. */
export function disablesGoVersionCheck(dlvFlags: readonly string[] = []): boolean {
  // Delve's flags are parsed by pflag, which reads a boolean with strconv.ParseBool.
  return dlvFlags.some((f) => /^--check-go-version=(0|f|F|false|FALSE|False)$/.test(f));
}

export const CHECK_GO_VERSION_OFF = '--check-go-version=false';

export type Compatibility = { ok: true; warning?: string } | { ok: false; reason: string; installCommand?: string; install: string };

/**
 * Does `delve` accept a binary built by `goVersion`? With `--check-go-version=false` among the
 * user's Delve flags a mismatch becomes a warning, as it does in Delve.
 */
export function checkDelveSupportsGo(delve: DelveVersion, goVersion: string, dlvFlags: readonly string[] = []): Compatibility {
  const go = goMinor(goVersion);
  if (!go || go[0] !== 1) {
    return { ok: true }; // devel toolchains: Delve skips its check for them too.
  }
  const window = supportedGoWindow(delve);
  if (!window) {
    // A release newer (or older) than this table: Delve checks on its own when it loads the binary.
    return {
      ok: true,
      warning: `Delve ${delve.version} is not in this extension's compatibility table; Delve itself will check that it supports ${goVersion}.`,
    };
  }
  const [low, high] = window;
  if (go[1] >= low && go[1] <= high) {
    return { ok: true };
  }
  const reason = `Delve ${delve.version} on the node debugs binaries built by Go 1.${low} to 1.${high}, but this binary was built by ${goVersion}`;
  if (disablesGoVersionCheck(dlvFlags)) {
    return {
      ok: true,
      warning: `${reason}. Going on because dlvFlags contains ${CHECK_GO_VERSION_OFF}; Delve may show wrong values or fail to stop.`,
    };
  }
  const exact = newestDelveFor(go[1]);
  if (exact) {
    return { ok: false, reason, install: `Delve ${exact}`, installCommand: `go install github.com/go-delve/delve/cmd/dlv@v${exact}` };
  }
  const newest = DELVE_RELEASES[DELVE_RELEASES.length - 1];
  if (go[1] > newest.go[1]) {
    // Newer than every release we know: only a later Delve can help, and @latest is the one to try.
    return {
      ok: false,
      reason,
      install: `a Delve release newer than 1.${newest.minor}.${newest.patches[1]} that supports Go 1.${go[1]}`,
      installCommand: 'go install github.com/go-delve/delve/cmd/dlv@latest',
    };
  }
  return { ok: false, reason, install: `a Delve release that supports Go 1.${go[1]} (Delve 1.7 and later support Go 1.15 and later only)` };
}
