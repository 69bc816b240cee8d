// Runs the compiled *.test.js files under a folder with mocha inside the extension host, and
// resolves only when all of them pass. Each suite folder's index.ts (extensionTestsPath) calls it.
import * as fs from 'fs';
import * as path from 'path';
import Mocha from 'mocha';

/** Every `*.test.js` below `dir`, in a stable order (no glob dependency), skipping `skip` folders. */
function findTestFiles(dir: string, skip: readonly string[]): string[] {
  const found: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory() && !skip.includes(entry.name)) found.push(...findTestFiles(full, skip));
    else if (entry.isFile() && entry.name.endsWith('.test.js')) found.push(full);
  }
  return found;
}

export function runMochaSuite(dir: string, skip: readonly string[] = []): Promise<void> {
  const mocha = new Mocha({ ui: 'bdd', color: false, timeout: 60_000 });
  // KRD_TEST_GREP narrows a run to matching tests while working on one of them.
  if (process.env.KRD_TEST_GREP) mocha.grep(process.env.KRD_TEST_GREP);

  const files = findTestFiles(dir, skip);
  if (files.length === 0) {
    return Promise.reject(new Error(`no *.test.js files under ${dir}; were the tests compiled?`));
  }
  for (const file of files) mocha.addFile(file);

  return new Promise((resolve, reject) => {
    try {
      const runner = mocha.run(() => {
        const { passes = 0, failures = 0, pending = 0 } = runner.stats ?? {};
        // CI reads this line; the spec reporter's own summary above it is for people.
        console.log(`${passes} passed, ${failures} failed${pending ? `, ${pending} skipped` : ''}`);
        if (failures > 0) reject(new Error(`${failures} integration test(s) failed`));
        else resolve();
      });
    } catch (err) {
      // A test file that throws while loading lands here, before any test runs.
      console.error(err);
      reject(err instanceof Error ? err : new Error(String(err)));
    }
  });
}
