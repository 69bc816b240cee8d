// How the shim turns the extension host's reported exit code into its own: only an explicit 0
// passes. A missing, non-numeric or out-of-range code (an extension host killed mid-run, a
// workbench that called codeAutomationExit without one) is a failure, never "passed".

/** The shim's exit code for what codeAutomationExit reported, and why it failed (undefined on success). */
export function shimExit(reported) {
  if (reported === 0) return { code: 0, failure: undefined };
  if (Number.isInteger(reported) && reported > 0 && reported <= 255) {
    return { code: reported, failure: `tests failed (exit code ${reported})` };
  }
  const shown = typeof reported === 'string' ? JSON.stringify(reported) : String(reported);
  return { code: 1, failure: `the extension host reported no usable exit code (${shown}); counted as a failure` };
}
