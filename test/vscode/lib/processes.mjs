// Starts helper processes in their own process group and ends them, and everything they spawned,
// by PID. Nothing here signals a process by name.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** Reads /proc/PID/stat: [ppid, starttime], or undefined once the process is gone or a zombie. */
function procStat(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm (field 2) may hold spaces and parentheses, so split after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] === 'Z' || fields[0] === 'X') return undefined;
    return { ppid: Number(fields[1]), start: fields[19] };
  } catch {
    return undefined;
  }
}

/** All live descendants of `pid`, as a Map pid → starttime (so a reused PID is never signalled). */
export function descendants(pid) {
  const children = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const st = procStat(Number(name));
    if (!st) continue;
    if (!children.has(st.ppid)) children.set(st.ppid, []);
    children.get(st.ppid).push([Number(name), st.start]);
  }
  const found = new Map();
  const queue = [pid];
  while (queue.length) {
    for (const [child, start] of children.get(queue.shift()) ?? []) {
      if (!found.has(child)) {
        found.set(child, start);
        queue.push(child);
      }
    }
  }
  return found;
}

function alive(pid, start) {
  const st = procStat(pid);
  return st !== undefined && (start === undefined || st.start === start);
}

function signal(pid, sig) {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

/**
 * Spawns a command as the leader of a new process group, so that it and its children can be
 * stopped together without touching anything else on the machine.
 */
export function spawnGroup(command, args, options = {}) {
  const child = spawn(command, args, { ...options, detached: true });
  child.startTime = child.pid ? procStat(child.pid)?.start : undefined;
  child.exited = new Promise((resolve) => child.once('exit', (code, sig) => resolve({ code, signal: sig })));
  return child;
}

/**
 * Ends a process tree: SIGTERM to the root's group and every known descendant, then SIGKILL to
 * whatever is left after `graceMs`. Descendants are collected before signalling (once a parent
 * dies its children are re-parented and could no longer be found).
 */
export async function stopTree(rootPid, { graceMs = 5000, group = true, rootStart } = {}) {
  if (!rootPid) return;
  const known = new Map();
  if (alive(rootPid, rootStart)) known.set(rootPid, rootStart ?? procStat(rootPid)?.start);
  const refresh = () => {
    for (const pid of [...known.keys()]) for (const [d, s] of descendants(pid)) known.set(d, s);
  };
  refresh();
  if (known.size === 0) return;
  if (group && known.has(rootPid)) signal(-rootPid, 'SIGTERM');
  for (const pid of known.keys()) signal(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    refresh();
    for (const [pid, start] of known) if (!alive(pid, start)) known.delete(pid);
    if (known.size === 0) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  refresh();
  if (group) signal(-rootPid, 'SIGKILL');
  for (const [pid, start] of known) if (alive(pid, start)) signal(pid, 'SIGKILL');
}

/** The live direct children of `pid`, as a Map pid → starttime. */
export function childrenOf(pid) {
  return new Map([...descendants(pid)].filter(([child]) => procStat(child)?.ppid === pid));
}

/** Whether a process with this PID exists (signal 0 checks without sending anything). */
export function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
