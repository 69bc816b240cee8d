// The runner's half of test/integration/clusterCrash/: VS Code started, its extension host killed with
// SIGKILL once the test says so, and VS Code started again with the same browser profile and port (the
// web workbench keeps globalState in the browser), as a user's VS Code that crashed and was reopened.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { freePort } from '../vscode/lib/net.mjs';
import { descendants, isAlive } from '../vscode/lib/processes.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls until `check` answers or `ended` settles (the run died first), at most `limitMs`. */
async function untilOr(check, ended, limitMs) {
  let over = false;
  void ended.then(() => (over = true));
  const deadline = Date.now() + limitMs;
  while (!over && Date.now() < deadline) {
    const value = check();
    if (value !== undefined) return value;
    await sleep(250);
  }
  return undefined;
}

/** Waits for the run's end; after `graceMs` asks it to stop (SIGTERM), after another minute kills it. */
async function endRun(run, graceMs) {
  const ended = (ms) => Promise.race([run.done.then(() => true), sleep(ms).then(() => false)]);
  if (await ended(graceMs)) return;
  run.child.kill('SIGTERM');
  if (await ended(60_000)) return;
  run.child.kill('SIGKILL');
  await ended(10_000);
}

/**
 * One crash and restart: `caseName` (ours or admin) picks the tests in clusterCrash/. Resolves with the
 * counts: the first run counts as passed only when its test asked to be killed and the kill happened.
 * `startSuite(args, env)` starts runIntegration.mjs ({ child, done }); `limitS` bounds the first run.
 */
export async function crashAndRestart({ startSuite, env, caseName, log, limitS = 660 }) {
  const dir = mkdtempSync(path.join(env.HOME, `crash-${caseName}-`));
  const readyFile = path.join(dir, 'ready');
  const base = {
    ...env,
    KRD_INTEGRATION_SUITE: 'clusterCrash',
    KRD_CRASH_CASE: caseName,
    KRD_CRASH_READY_FILE: readyFile,
    KRD_BROWSER_PROFILE: path.join(dir, 'browser'),
    KRD_VSCODE_PORT: String(await freePort()),
  };
  try {
    const first = startSuite([], { ...base, KRD_CRASH_PHASE: 'kill' });
    const pid = await untilOr(() => (existsSync(readyFile) ? Number(readFileSync(readyFile, 'utf8')) : undefined), first.done, limitS * 1000);
    // Only a process of this run: the extension host descends from the runIntegration.mjs child.
    const ours = Number.isInteger(pid) && descendants(first.child.pid).has(pid);
    if (ours) {
      process.kill(pid, 'SIGKILL');
      log(`killed the extension host (PID ${pid}) with SIGKILL`);
    } else {
      log(pid === undefined ? 'the first run ended (or timed out) before its test asked to be killed' : `PID ${pid} in ${readyFile} is no process of this run; nothing killed`);
    }
    await endRun(first, ours ? 15_000 : 0);
    if (!ours) return { code: 1, passed: 0, failed: 1 };
    if (isAlive(pid)) {
      log(`the extension host PID ${pid} still runs after SIGKILL`);
      return { code: 1, passed: 0, failed: 1 };
    }
    const second = await startSuite([], { ...base, KRD_CRASH_PHASE: 'restart' }).done;
    return { code: second.code, passed: second.passed + 1, failed: second.failed };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
