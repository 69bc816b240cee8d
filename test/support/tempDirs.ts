// Temporary folders for tests (/tmp/krd-PREFIX-*): removed as soon as a test is done with them, and
// in any case when the test process exits, so a failing or aborted test leaves nothing behind.
import { mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';

const made = new Set<string>();
let exitHookInstalled = false;

/** A fresh folder, /tmp/krd-PREFIX-XXXXXX, removed at the latest when the process exits. */
export function tempDir(prefix: string): string {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', () => [...made].forEach(removeTempDir));
  }
  const dir = mkdtempSync(path.join(tmpdir(), `krd-${prefix}-`));
  made.add(dir);
  return dir;
}

/** Removes a folder from tempDir() now. */
export function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  made.delete(dir);
}
