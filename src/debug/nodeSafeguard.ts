// The node-side half of "always restore": per-unit state under /run, a restore script, and a guard
// running as a transient systemd unit that restores the unit when the extension stops renewing its
// lease (VS Code killed, laptop asleep, network cut) or when Delve dies. /run is gone after a reboot,
// and so is the debug drop-in, so a reboot restores the node too.
import { shellQuote } from '../ssh/shellQuote';
import { checkUnitName } from '../systemd/unitStatus';
import { debugDropInPath } from './debugDropIn';

export const STATE_ROOT = '/run/kubelet-remote-debug';

/**
 * How often to renew the lease for a grace of `graceSeconds`: three renewals fit in the grace (the
 * guard counts whole seconds, and one renewal may be slow), at most every 5 s, at least every second.
 */
export function leaseRenewMs(graceSeconds: number): number {
  return Math.min(5000, Math.max(1000, Math.floor((graceSeconds * 1000) / 3)));
}

export interface SessionHolder {
  sessionId: string;
  holder: string;
  since: string;
}

export interface SafeguardPaths {
  unit: string;
  stateDir: string;
  lease: string;
  launched: string;
  sessionFile: string;
  restoreScript: string;
  guardScript: string;
  guardUnit: string;
  dropIn: string;
}

export function safeguardPaths(unit: string): SafeguardPaths {
  checkUnitName(unit);
  const stateDir = `${STATE_ROOT}/${unit}`;
  return {
    unit,
    stateDir,
    lease: `${stateDir}/lease`,
    launched: `${stateDir}/launched`,
    sessionFile: `${stateDir}/session.json`,
    restoreScript: `${stateDir}/restore.sh`,
    guardScript: `${stateDir}/guard.sh`,
    guardUnit: `krd-guard-${unit.replace(/\.service$/, '').replace(/[^A-Za-z0-9_.-]/g, '_')}.service`,
    dropIn: debugDropInPath(unit),
  };
}

/** Puts the unit back: drop-in gone, systemd reloaded, unit restarted (or stopped, if it was stopped). */
export function restoreScript(p: SafeguardPaths, wasActive: boolean): string {
  const q = shellQuote;
  return [
    '#!/bin/sh',
    `# Restores ${p.unit} after a Kubelet Remote Debug session.`,
    // Stop while the debug drop-in still applies: its short TimeoutStopSec ends a Delve that ignores
    // SIGTERM (it can, while its kubelet is stopped under ptrace) in seconds, not the unit's 90 s.
    `systemctl stop -- ${q(p.unit)}`,
    `rm -f -- ${q(p.dropIn)}`,
    `rmdir -- ${q(p.dropIn.replace(/\/[^/]+$/, ''))} 2>/dev/null`,
    'systemctl daemon-reload',
    wasActive ? `systemctl start -- ${q(p.unit)}` : 'true',
    'status=$?',
    `rm -rf -- ${q(p.stateDir)}`,
    'exit $status',
    '',
  ].join('\n');
}

/** The guard loop. It never touches the unit while the lease is fresh and Delve is alive. */
export function guardScript(p: SafeguardPaths, graceSeconds: number): string {
  const q = shellQuote;
  return [
    '#!/bin/sh',
    `# Kubelet Remote Debug safeguard for ${p.unit}: restores it when the lease is not renewed for ${graceSeconds} s.`,
    'while sleep 1; do',
    `  [ -e ${q(p.restoreScript)} ] || exit 0`,
    `  age=$(( $(date +%s) - $(stat -c %Y ${q(p.lease)} 2>/dev/null || echo 0) ))`,
    `  if [ "$age" -ge ${Math.max(1, Math.floor(graceSeconds))} ]; then`,
    `    echo "lease not renewed for $age s: restoring ${p.unit}"`,
    `    exec /bin/sh ${q(p.restoreScript)}`,
    '  fi',
    `  if [ -e ${q(p.launched)} ] && ! systemctl is-active --quiet -- ${q(p.unit)}; then`,
    `    echo "the debug process of ${p.unit} exited: restoring"`,
    `    exec /bin/sh ${q(p.restoreScript)}`,
    '  fi',
    'done',
    '',
  ].join('\n');
}

export interface ArmOptions {
  paths: SafeguardPaths;
  holder: SessionHolder;
  wasActive: boolean;
  graceSeconds: number;
  dropInText: string;
  /** Who renews the lease, so renewing needs no sudo. */
  loginUser: string;
}

/**
 * One root shell script that takes the per-unit lock, writes the state, starts the guard, installs
 * the drop-in and restarts the unit under Delve. Exit 75 means another session holds the lock.
 * Any failure after the lock runs the restore script before exiting.
 */
export function armScript(o: ArmOptions): string {
  const p = o.paths;
  const q = shellQuote;
  const write = (file: string, text: string, mode: string) => `printf '%s' ${q(text)} > ${q(file)} && chmod ${mode} ${q(file)}`;
  const dropInDir = p.dropIn.replace(/\/[^/]+$/, '');
  return [
    'set -u',
    `mkdir -p ${q(STATE_ROOT)}`,
    `if ! mkdir ${q(p.stateDir)} 2>/dev/null; then cat ${q(p.sessionFile)} 2>/dev/null; exit 75; fi`,
    ...stopGuardFunction(p),
    `fail() { echo "$1" >&2; stop_guard >&2; /bin/sh ${q(p.restoreScript)} >/dev/null 2>&1 || rm -rf -- ${q(p.stateDir)}; exit 1; }`,
    write(p.sessionFile, JSON.stringify(o.holder), '0644') + ' || fail "cannot write the session state"',
    write(p.restoreScript, restoreScript(p, o.wasActive), '0700') + ' || fail "cannot write the restore script"',
    write(p.guardScript, guardScript(p, o.graceSeconds), '0700') + ' || fail "cannot write the guard script"',
    `touch ${q(p.lease)} && chown ${q(o.loginUser)} ${q(p.lease)} || fail "cannot create the lease"`,
    // A guard unit of an earlier session may still be loaded (failed or dead); systemd-run refuses its name.
    `stop_guard >&2; systemctl reset-failed -- ${q(p.guardUnit)} 2>/dev/null`,
    `systemd-run --quiet --collect --unit=${q(p.guardUnit)} --description=${q(`Kubelet Remote Debug safeguard for ${p.unit}`)} /bin/sh ${q(p.guardScript)} || fail "cannot start the safeguard unit"`,
    `mkdir -p ${q(dropInDir)} || fail "cannot create ${dropInDir}"`,
    `printf '%s' ${q(o.dropInText)} > ${q(p.dropIn + '.tmp')} && mv -f ${q(p.dropIn + '.tmp')} ${q(p.dropIn)} || fail "cannot write the debug drop-in"`,
    'systemctl daemon-reload || fail "systemctl daemon-reload failed"',
    `systemctl restart -- ${q(p.unit)} || fail "systemctl restart ${p.unit} failed"`,
    // The grace counts from Delve's start: stopping the old process can take seconds (a real kubelet
    // in its first seconds needs about 5), and the extension only renews once this script returns.
    `touch ${q(p.launched)} ${q(p.lease)}`,
    '',
  ].join('\n');
}

/**
 * Orderly end: stop the guard first so it cannot race us, then restore. With a session id, a session
 * that is not that one (a newer one, after ours was already restored) is left alone. Prints
 * `guard-note=…` lines (see disarmNotes) when the guard had to be killed.
 */
export function disarmScript(p: SafeguardPaths, sessionId?: string): string {
  const q = shellQuote;
  return [
    ...(sessionId
      ? [
          `if [ -e ${q(p.sessionFile)} ] && ! grep -qF ${q(`"sessionId":"${sessionId}"`)} ${q(p.sessionFile)}; then echo other-session; exit 0; fi`,
        ]
      : []),
    ...stopGuardFunction(p),
    'stop_guard',
    `if [ -e ${q(p.restoreScript)} ]; then exec /bin/sh ${q(p.restoreScript)}; fi`,
    // No state (lost, or a half-finished arm): still make sure our drop-in is gone.
    `if [ -e ${q(p.dropIn)} ]; then rm -f -- ${q(p.dropIn)}; systemctl daemon-reload; systemctl restart -- ${q(p.unit)}; fi`,
    '',
  ].join('\n');
}

const GUARD_NOTE = 'guard-note=';

/**
 * Shell lines defining `stop_guard`. The guard must be gone before a restore (it would race it), but
 * waiting for systemd to stop it can take the unit's whole stop timeout (90 s by default: a slow
 * ExecStop, a process that ignores SIGTERM, a cgroup whose end systemd does not notice). So systemd
 * stops it in the background, and after a second SIGKILL ends whatever of it still runs. Once its
 * processes are gone nothing can race the restore, whatever state systemd still shows for the unit.
 */
function stopGuardFunction(p: SafeguardPaths): string[] {
  const q = shellQuote;
  const g = q(p.guardUnit);
  return [
    // No main or control process left (a unit that does not exist shows 0 for both).
    `guard_gone() { case "$(systemctl show -p MainPID -p ControlPID --value -- ${g} 2>/dev/null | tr -d '\n')" in 00|'') return 0;; *) return 1;; esac; }`,
    'stop_guard() {',
    `  systemctl stop --no-block -- ${g} 2>/dev/null`,
    '  i=0; while ! guard_gone && [ $i -lt 10 ]; do sleep 0.1; i=$((i+1)); done',
    '  guard_gone && return 0',
    `  systemctl kill --signal=SIGKILL -- ${g} 2>/dev/null`,
    '  i=0; while ! guard_gone && [ $i -lt 20 ]; do sleep 0.1; i=$((i+1)); done',
    `  if guard_gone; then echo ${q(`${GUARD_NOTE}The safeguard unit ${p.guardUnit} did not stop within 1 s, so it was killed (SIGKILL).`)};`,
    `  else echo ${q(`${GUARD_NOTE}The safeguard unit ${p.guardUnit} still runs after SIGKILL; the restore went ahead without waiting for it.`)}; fi`,
    '}',
  ];
}

/** The notes the disarm script printed: what the restore had to do about the guard. */
export function disarmNotes(stdout: string): string[] {
  return stdout
    .split('\n')
    .filter((l) => l.startsWith(GUARD_NOTE))
    .map((l) => l.slice(GUARD_NOTE.length));
}

/** Prints "held" + session.json when a live session holds the unit, "stale" when one was left behind. */
export function inspectScript(p: SafeguardPaths): string {
  const q = shellQuote;
  return [
    `if [ -d ${q(p.stateDir)} ]; then`,
    `  if systemctl is-active --quiet -- ${q(p.guardUnit)}; then echo held; else echo stale; fi`,
    `  cat ${q(p.sessionFile)} 2>/dev/null`,
    `elif [ -e ${q(p.dropIn)} ]; then echo stale; else echo free; fi`,
    '',
  ].join('\n');
}

export function shArgv(script: string): string[] {
  return ['/bin/sh', '-c', script];
}
