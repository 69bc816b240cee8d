// The node-side half of "always restore": per-unit state under /run, a restore script, and a guard
// running as a transient systemd unit that restores the unit when the extension stops renewing its
// lease (VS Code killed, laptop asleep, network cut) or when Delve dies. /run is gone after a reboot,
// and so is the debug drop-in, so a reboot restores the node too.
import { shellQuote } from '../ssh/shellQuote';
import { checkUnitName } from '../systemd/unitStatus';
import { debugDropInPath } from './debugDropIn';

export const STATE_ROOT = '/run/kubelet-remote-debug';

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
    `fail() { echo "$1" >&2; systemctl stop -- ${q(p.guardUnit)} 2>/dev/null; /bin/sh ${q(p.restoreScript)} >/dev/null 2>&1 || rm -rf -- ${q(p.stateDir)}; exit 1; }`,
    write(p.sessionFile, JSON.stringify(o.holder), '0644') + ' || fail "cannot write the session state"',
    write(p.restoreScript, restoreScript(p, o.wasActive), '0700') + ' || fail "cannot write the restore script"',
    write(p.guardScript, guardScript(p, o.graceSeconds), '0700') + ' || fail "cannot write the guard script"',
    `touch ${q(p.lease)} && chown ${q(o.loginUser)} ${q(p.lease)} || fail "cannot create the lease"`,
    // A guard unit of an earlier session may still be loaded (failed or dead); systemd-run refuses its name.
    `systemctl stop -- ${q(p.guardUnit)} 2>/dev/null; systemctl reset-failed -- ${q(p.guardUnit)} 2>/dev/null`,
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
 * that is not that one (a newer one, after ours was already restored) is left alone.
 */
export function disarmScript(p: SafeguardPaths, sessionId?: string): string {
  const q = shellQuote;
  return [
    ...(sessionId ? [`if [ -e ${q(p.sessionFile)} ] && ! grep -qF ${q(`"sessionId":"${sessionId}"`)} ${q(p.sessionFile)}; then echo other-session; exit 0; fi`] : []),
    `systemctl stop -- ${q(p.guardUnit)} 2>/dev/null`,
    `if [ -e ${q(p.restoreScript)} ]; then exec /bin/sh ${q(p.restoreScript)}; fi`,
    // No state (lost, or a half-finished arm): still make sure our drop-in is gone.
    `if [ -e ${q(p.dropIn)} ]; then rm -f -- ${q(p.dropIn)}; systemctl daemon-reload; systemctl restart -- ${q(p.unit)}; fi`,
    '',
  ].join('\n');
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
