// What the Nodes view shows about a unit, read from the node in one `systemctl show` round trip.
import { errors } from '../common/errors';
import type { NodeConnection } from '../ssh/nodeConnection';
import { EnvironmentFileRef, ExecCommandRecord, first, parseEnvironmentFiles, parseExecRecords, parseShowOutput } from './unitProperties';

export interface UnitStatus {
  unit: string;
  loadState: string;
  activeState: string;
  subState: string;
  mainPid: number;
  fragmentPath: string;
  /** In the order systemd applies them. */
  dropInPaths: string[];
  environmentFiles: EnvironmentFileRef[];
  execStart: ExecCommandRecord[];
  workingDirectory: string;
  user: string;
  /** The unit's files changed on disk since systemd loaded them: a restart alone would not apply them. */
  needDaemonReload: boolean;
}

const PROPERTIES = [
  'Id',
  'LoadState',
  'ActiveState',
  'SubState',
  'MainPID',
  'FragmentPath',
  'DropInPaths',
  'EnvironmentFiles',
  'ExecStart',
  'WorkingDirectory',
  'User',
  'NeedDaemonReload',
];

/** Valid unit names only; anything else is refused before it reaches the node. */
export function checkUnitName(unit: string): string {
  if (!/^[A-Za-z0-9:_.\\@-]+\.(service|socket|timer|mount|automount|target|path|slice|scope|swap)$/.test(unit) || unit.startsWith('-')) {
    throw new Error(`"${unit}" is not a valid systemd unit name.`);
  }
  return unit;
}

export async function readUnitStatus(node: NodeConnection, unit: string, signal?: AbortSignal): Promise<UnitStatus> {
  checkUnitName(unit);
  // systemctl show works unprivileged, so the view never needs sudo just to look.
  const result = await node.exec(['systemctl', 'show', '--no-pager', unit, ...PROPERTIES.flatMap((p) => ['-p', p])], { signal });
  if (result.code !== 0) {
    throw errors.remoteCommandFailed(node.spec, `systemctl show ${unit}`, result.code, result.stderr);
  }
  const props = parseShowOutput(result.stdout);
  if (first(props, 'LoadState') === 'not-found') {
    throw errors.unitNotFound(node.spec, unit);
  }
  return {
    unit: first(props, 'Id') || unit,
    loadState: first(props, 'LoadState'),
    activeState: first(props, 'ActiveState'),
    subState: first(props, 'SubState'),
    mainPid: Number(first(props, 'MainPID')) || 0,
    fragmentPath: first(props, 'FragmentPath'),
    dropInPaths: first(props, 'DropInPaths').split(' ').filter(Boolean),
    environmentFiles: parseEnvironmentFiles(props.get('EnvironmentFiles') ?? []),
    execStart: (props.get('ExecStart') ?? []).flatMap(parseExecRecords),
    workingDirectory: first(props, 'WorkingDirectory'),
    user: first(props, 'User'),
    needDaemonReload: first(props, 'NeedDaemonReload') === 'yes',
  };
}
