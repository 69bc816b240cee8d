// What the Nodes view can do to a unit: daemon-reload, start/stop/restart, add or remove a drop-in
// (keeping a backup), and follow its journal. Every argument is passed as an argv word, never spliced.
import * as path from 'path';
import { errors } from '../common/errors';
import type { ExecOptions } from '../ssh/remoteExec';
import type { NodeConnection } from '../ssh/nodeConnection';
import { writeNodeFile } from '../node/nodeFileWrite';
import { checkUnitName } from './unitStatus';

export type UnitAction = 'start' | 'stop' | 'restart';

export const BACKUP_DIR = '/var/lib/kubelet-remote-debug/backups';
const DROP_IN_NAME = /^[A-Za-z0-9_.@-]+\.conf$/;

export async function daemonReload(node: NodeConnection): Promise<void> {
  await node.runAsRoot('systemctl daemon-reload', ['systemctl', 'daemon-reload']);
}

export async function runUnitAction(node: NodeConnection, action: UnitAction, unit: string): Promise<void> {
  checkUnitName(unit);
  await node.runAsRoot(`systemctl ${action} ${unit}`, ['systemctl', action, '--', unit]);
}

/** True when the unit's files changed on disk since systemd last loaded them. */
export async function needsDaemonReload(node: NodeConnection, unit: string): Promise<boolean> {
  const r = await node.exec(['systemctl', 'show', '-p', 'NeedDaemonReload', '--value', '--', checkUnitName(unit)]);
  return r.stdout.trim() === 'yes';
}

export function validateDropInName(name: string): string {
  if (!DROP_IN_NAME.test(name) || name.startsWith('.') || name.startsWith('-')) {
    throw errors.badDropInName(name);
  }
  return name;
}

export function dropInTemplate(unit: string, name: string): string {
  return [
    `# ${name}: a drop-in for ${unit}, applied after the unit file and earlier drop-ins (by name).`,
    '# A list setting is reset by an empty assignment, e.g. "ExecStart=" before a new ExecStart=.',
    '# Saving checks this file with systemd-analyze verify, then runs systemctl daemon-reload.',
    '[Service]',
    '# Environment="KUBELET_EXTRA_ARGS=--v=4"',
    '',
  ].join('\n');
}

/** Creates /etc/systemd/system/UNIT.d/NAME from the template; refuses to replace an existing file. */
export async function createDropIn(node: NodeConnection, unit: string, name: string): Promise<string> {
  checkUnitName(unit);
  validateDropInName(name);
  const dir = `/etc/systemd/system/${unit}.d`;
  await node.runAsRoot(`creating ${dir}`, ['mkdir', '-p', '-m', '0755', '--', dir]);
  const file = `${dir}/${name}`;
  await writeNodeFile(node, file, Buffer.from(dropInTemplate(unit, name)), { create: true, overwrite: false });
  return file;
}

/** Moves a drop-in to the backup folder (the copy is the move's result), then reloads systemd. */
export async function deleteDropIn(node: NodeConnection, file: string, now = new Date()): Promise<string> {
  if (!/\.d$/.test(path.posix.dirname(file)) || !file.endsWith('.conf') || !path.posix.isAbsolute(file)) {
    throw errors.badDropInName(file);
  }
  const stamp = now.toISOString().replace(/[:.]/g, '-');
  const backup = `${BACKUP_DIR}/${path.posix.basename(file)}.${stamp}`;
  const script = '[ -f "$1" ] || exit 72; mkdir -p -m 0700 -- "$3" && cp -p -- "$1" "$2" && rm -f -- "$1"';
  const r = await node.execAsRoot(['/bin/sh', '-c', script, 'sh', file, backup, BACKUP_DIR]);
  if (r.code === 72) {
    throw errors.nodeFileNotFound(node.spec, file);
  }
  if (r.code !== 0) {
    throw errors.remoteCommandFailed(node.spec, `deleting ${file}`, r.code, r.stderr);
  }
  await daemonReload(node);
  return backup;
}

/** Streams `journalctl -f` of the unit until `signal` aborts (closing the channel ends it on the node). */
export async function followJournal(
  node: NodeConnection,
  unit: string,
  options: Pick<ExecOptions, 'onStdout' | 'onStderr' | 'signal'>,
): Promise<void> {
  // Follows until the caller aborts; no time limit.
  await node.execAsRoot(['journalctl', '--no-pager', '-f', '-n', '50', '-o', 'short-iso', '-u', checkUnitName(unit)], {
    ...options,
    maxBuffer: 0,
    timeoutMs: Infinity,
  });
}
