// The Kubernetes version a binary reports, read from the version stamp its build put in the linker
// flags (-X …/version.gitVersion=v1.20.2), so the binary never has to be run to ask it.

/** "v1.20.2" from a recorded -ldflags value, or undefined when it stamps no version. */
export function versionFromLdflags(ldflags: string): string | undefined {
  // `-X 'pkg/version.gitVersion=v1.20.2'`, `-X pkg/version.gitVersion=v1.20.2` or `-X=pkg…`.
  const m = /-X[= ]'?[\w./-]*\/version\.gitVersion=([^'\s]+)'?/.exec(ldflags);
  return m?.[1];
}
