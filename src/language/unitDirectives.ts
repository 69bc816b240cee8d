// The vocabulary of systemd unit files that kubelet and containerd units use, and where a cursor sits
// in a unit's text (which section, a directive's name, a continued value). Plain data and pure
// functions, so the editor features stay thin and this is tested without VS Code.

export type UnitSection = 'Unit' | 'Service' | 'Install';

export interface UnitSectionInfo {
  name: UnitSection;
  description: string;
}

export interface UnitDirective {
  name: string;
  /** Where systemd accepts it; more than one for the few that older units still use elsewhere. */
  sections: readonly UnitSection[];
  description: string;
}

export const UNIT_SECTIONS: readonly UnitSectionInfo[] = [
  { name: 'Unit', description: 'What the unit is, and how it is ordered against and depends on other units.' },
  { name: 'Service', description: "How the service's process is started, supervised, restarted, stopped and confined." },
  { name: 'Install', description: 'What `systemctl enable` links the unit into; ignored while the unit runs.' },
];

const unit = (name: string, description: string): UnitDirective => ({ name, sections: ['Unit'], description });
const service = (name: string, description: string): UnitDirective => ({ name, sections: ['Service'], description });
const install = (name: string, description: string): UnitDirective => ({ name, sections: ['Install'], description });

export const UNIT_DIRECTIVES: readonly UnitDirective[] = [
  unit('Description', 'A short human-readable name for the unit, shown by systemctl status and in the journal.'),
  unit('Documentation', "Space-separated URIs (http:, https:, man:, file:, info:) pointing at the unit's documentation."),
  unit('After', 'Start this unit only once the listed units have finished starting (ordering only, no dependency).'),
  unit('Before', 'Make the listed units wait until this unit has finished starting (ordering only, no dependency).'),
  unit('Wants', 'Also start the listed units when this one starts; their failure does not affect this unit.'),
  unit('Requires', 'Also start the listed units; stopping one stops this unit too, and with After= a failed one keeps it from starting.'),
  unit('Requisite', 'Like Requires=, but the listed units must already be active: they are not started for this unit.'),
  unit('BindsTo', 'Like Requires=, and also stop this unit whenever a listed unit stops or disappears (e.g. a device).'),
  unit('PartOf', 'Stop or restart this unit whenever a listed unit is stopped or restarted; it does not start them.'),
  unit('Conflicts', 'Starting this unit stops the listed units, and starting them stops this one.'),
  unit('OnFailure', 'Units to activate when this unit enters the failed state, e.g. a notifier.'),
  unit('DefaultDependencies', 'yes (default) adds the implicit dependencies on basic and shutdown targets; no leaves them out.'),
  unit('ConditionPathExists', 'Skip starting the unit (without failing) unless the path exists; a leading ! inverts the test.'),
  unit('ConditionPathIsDirectory', 'Skip starting the unit (without failing) unless the path is a directory; ! inverts the test.'),
  unit('ConditionFileIsExecutable', 'Skip starting the unit (without failing) unless the path is an executable regular file.'),
  unit('ConditionVirtualization', 'Skip starting the unit unless systemd detects this kind of virtualization (e.g. container, vm, no).'),
  unit('AssertPathExists', 'Like ConditionPathExists=, but a missing path makes the start fail instead of being skipped.'),
  unit('StartLimitIntervalSec', 'The window for the start rate limit; 0 turns the limit off, so restarts never give up.'),
  unit('StartLimitBurst', 'How many starts are allowed within StartLimitIntervalSec= before the unit is refused and fails.'),
  {
    name: 'StartLimitInterval',
    sections: ['Unit', 'Service'],
    description: 'Older name of StartLimitIntervalSec=; still accepted, also in [Service] (kubelet.service sets it to 0).',
  },
  unit('StartLimitAction', 'What to do when the start rate limit is hit: none, reboot, reboot-force, poweroff and similar.'),

  service('Type', 'How systemd decides the service is started: simple, exec, forking, oneshot, notify (sd_notify READY=1), dbus or idle.'),
  service('ExecStart', 'The command line of the main process. An empty assignment clears earlier ones, which is how drop-ins replace it.'),
  service('ExecStartPre', 'Commands run before ExecStart=, in order; a - prefix lets one fail without failing the start.'),
  service('ExecStartPost', 'Commands run after the main process has started (for Type=notify, after it reported ready).'),
  service('ExecReload', 'Commands that make the service reload its configuration, run by systemctl reload.'),
  service('ExecStop', 'Commands that stop the service; whatever still runs afterwards is killed according to KillMode=.'),
  service('ExecStopPost', 'Commands run after the service has stopped, also after it failed; good for cleaning up.'),
  service(
    'Restart',
    'When to restart the main process after it exits: no, on-success, on-failure, on-abnormal, on-watchdog, on-abort or always.',
  ),
  service('RestartSec', 'How long to wait before restarting the service (a time span such as 10 or 500ms).'),
  service('TimeoutStartSec', 'How long starting may take before the service is considered failed and killed; infinity waits forever.'),
  service('TimeoutStopSec', 'How long stopping may take before the remaining processes get SIGKILL.'),
  service('TimeoutSec', 'Sets both TimeoutStartSec= and TimeoutStopSec= at once.'),
  service('WatchdogSec', 'The service must send WATCHDOG=1 through sd_notify within this interval, or it is treated as hung.'),
  service('SuccessExitStatus', 'Extra exit codes or signals that count as a clean exit of the main process.'),
  service('RemainAfterExit', 'yes keeps the unit active after all its processes exited; common with Type=oneshot.'),
  service('PIDFile', 'For Type=forking: the file in which the daemon writes its main PID.'),
  service('Environment', 'Sets environment variables for the commands: space-separated NAME=value pairs, quoted when they hold spaces.'),
  service('EnvironmentFile', 'Reads NAME=value lines from a file into the environment; a leading - ignores a missing file.'),
  service('UnsetEnvironment', 'Removes variables (or exact NAME=value pairs) from the environment passed to the commands.'),
  service('PassEnvironment', "Passes these variables through from the service manager's own environment."),
  service('WorkingDirectory', "The directory the commands run in; - ignores a missing one, ~ means the user's home."),
  service('RootDirectory', 'Runs the commands with this directory as their root (a chroot).'),
  service('User', 'The user (name or UID) the commands run as; root when unset.'),
  service('Group', "The group the commands run as; the user's primary group when unset."),
  service('SupplementaryGroups', "Extra groups for the processes, in addition to the user's."),
  service('KillMode', 'Which processes stopping kills: control-group (all), mixed, process (only the main one) or none.'),
  service('KillSignal', 'The signal sent first when stopping the service; SIGTERM by default.'),
  service('SendSIGKILL', 'Whether processes that survive the stop timeout are sent SIGKILL; yes by default.'),
  service('LimitNOFILE', 'The limit on open file descriptors (RLIMIT_NOFILE), as soft:hard or one value for both.'),
  service('LimitNPROC', "The limit on processes for the service's user (RLIMIT_NPROC); infinity lifts it."),
  service('LimitCORE', 'The largest core dump the processes may write (RLIMIT_CORE); infinity allows any size.'),
  service('LimitMEMLOCK', 'How much memory the processes may lock into RAM (RLIMIT_MEMLOCK).'),
  service('TasksMax', "The most tasks (processes and threads) the unit's cgroup may hold; infinity lifts the limit."),
  service('Delegate', "Hands the unit's cgroup subtree to the service to manage itself, as container runtimes need."),
  service('CPUAccounting', "Turns on CPU time accounting for the unit's cgroup."),
  service('MemoryAccounting', "Turns on memory accounting for the unit's cgroup."),
  service('CPUQuota', 'Caps CPU time as a percentage of one CPU (200% is two full CPUs).'),
  service('MemoryMax', "A hard memory limit for the unit's cgroup; going over it invokes the OOM killer."),
  service('MemoryHigh', 'A soft memory limit: above it the unit is throttled and reclaimed hard, but not killed.'),
  service('OOMScoreAdjust', 'The kernel OOM-killer score adjustment, -1000 to 1000; negative values make a kill less likely.'),
  service('Nice', 'The CPU scheduling priority of the processes, -20 (highest) to 19 (lowest).'),
  service('Slice', 'The slice (cgroup parent) the unit is placed in, e.g. system.slice or a custom runtime.slice.'),
  service('NotifyAccess', 'Which processes may send sd_notify messages: none, main, exec or all.'),
  service('StandardOutput', 'Where stdout goes: journal (default), inherit, null, tty, file:PATH, append:PATH and more.'),
  service('StandardError', 'Where stderr goes; same choices as StandardOutput=, inherit by default (follows stdout).'),
  service('SyslogIdentifier', 'The name logged lines are tagged with in the journal instead of the process name.'),
  service('CapabilityBoundingSet', 'Limits the capabilities the processes can ever gain; a leading ~ removes the listed ones instead.'),
  service('AmbientCapabilities', 'Capabilities given to the processes even when they run as a non-root user.'),
  service('NoNewPrivileges', 'yes stops the processes and their children from gaining privileges, e.g. through setuid binaries.'),
  service('ProtectSystem', 'Mounts /usr and /boot (and with strict, the whole tree) read-only for the service.'),
  service('ProtectHome', 'Hides /home, /root and /run/user from the service, or makes them read-only.'),
  service('PrivateTmp', 'Gives the service its own /tmp and /var/tmp, not shared with other processes.'),
  service('ReadWritePaths', 'Paths that stay writable when ProtectSystem= or similar made the tree read-only.'),

  install('WantedBy', "systemctl enable adds this unit to the listed units' Wants=, usually multi-user.target."),
  install('RequiredBy', "systemctl enable adds this unit to the listed units' Requires=."),
  install('Alias', 'Extra names linked to the unit when it is enabled.'),
  install('Also', 'Other units to enable or disable together with this one.'),
];

const directivesByName = new Map<string, UnitDirective>(UNIT_DIRECTIVES.map((d) => [d.name, d]));

/** systemd matches directive names case-sensitively, and so do we. */
export function findDirective(name: string): UnitDirective | undefined {
  return directivesByName.get(name);
}

export function findSection(name: string): UnitSectionInfo | undefined {
  return UNIT_SECTIONS.find((s) => s.name === name);
}

/** The directives systemd accepts in a section; none outside the three sections we describe. */
export function directivesFor(section: string | undefined): UnitDirective[] {
  return UNIT_DIRECTIVES.filter((d) => (d.sections as readonly string[]).includes(section ?? ''));
}

export interface TextPosition {
  line: number;
  character: number;
}

/** What a line is, given everything above it. */
export interface LineContext {
  /** The section the line belongs to (a header line belongs to its own section). */
  section?: string;
  /** The line continues the value of the line above (which ended in a backslash). */
  continuation: boolean;
  comment: boolean;
  header: boolean;
  text: string;
}

const COMMENT = /^\s*[#;]/;
const HEADER = /^\s*\[([^\]]*)\]\s*$/;

/**
 * Reads down to the line the way systemd does: # and ; lines are comments, also inside a value
 * continued with a trailing backslash (the continuation then goes on past them), and a continued
 * value's next line is never a header or a directive, even if it looks like one.
 */
export function lineContext(text: string, line: number): LineContext {
  const lines = text.split('\n').map((l) => l.replace(/\r$/, ''));
  let section: string | undefined;
  let continuing = false;
  for (let i = 0; i < line && i < lines.length; i++) {
    const current = lines[i];
    if (COMMENT.test(current)) {
      continue;
    }
    if (!continuing) {
      const header = HEADER.exec(current);
      if (header) {
        section = header[1].trim();
        continue;
      }
    }
    continuing = current.endsWith('\\');
  }
  const current = lines[line] ?? '';
  const comment = COMMENT.test(current);
  const header = !continuing && !comment ? HEADER.exec(current) : null;
  return { section: header ? header[1].trim() : section, continuation: continuing, comment, header: !!header, text: current };
}

/** The section a position is in, or undefined above the first header. */
export function sectionAt(text: string, position: TextPosition): string | undefined {
  return lineContext(text, position.line).section;
}

export interface NameAtPosition {
  kind: 'directive' | 'section';
  name: string;
  /** The section the name is in (for a header, the section it opens). */
  section?: string;
  start: number;
  end: number;
}

/** The directive name (left of `=`) or section header name under the cursor. */
export function nameAt(text: string, position: TextPosition): NameAtPosition | undefined {
  const ctx = lineContext(text, position.line);
  if (ctx.comment || ctx.continuation) {
    return undefined;
  }
  const within = (start: number, end: number) => position.character >= start && position.character <= end;
  if (ctx.header) {
    const m = /^(\s*\[\s*)([^\]]*?)\s*\]/.exec(ctx.text)!;
    const start = m[1].length;
    const end = start + m[2].length;
    return within(start, end) ? { kind: 'section', name: m[2], section: ctx.section, start, end } : undefined;
  }
  const m = /^(\s*)([A-Za-z][A-Za-z0-9_.-]*)\s*=/.exec(ctx.text);
  if (!m) {
    return undefined;
  }
  const start = m[1].length;
  const end = start + m[2].length;
  return within(start, end) ? { kind: 'directive', name: m[2], section: ctx.section, start, end } : undefined;
}

export type CompletionContext =
  /** Typing a section header after `[`; `closed` when a `]` already follows the cursor. */
  | { kind: 'section'; prefix: string; start: number; end: number; closed: boolean }
  /** Typing a directive name at the start of a line. */
  | { kind: 'directive'; section?: string; prefix: string; start: number; end: number };

/** What may be completed at the position, or undefined inside values, comments and continued lines. */
export function completionContextAt(text: string, position: TextPosition): CompletionContext | undefined {
  const ctx = lineContext(text, position.line);
  if (ctx.comment || ctx.continuation) {
    return undefined;
  }
  const before = ctx.text.slice(0, position.character);
  const after = ctx.text.slice(position.character);
  // The word being typed runs on past the cursor when completing in the middle of it.
  const rest = /^[A-Za-z0-9_.-]*/.exec(after)![0];
  const end = position.character + rest.length;
  const sectionStart = /^(\s*\[)([A-Za-z]*)$/.exec(before);
  if (sectionStart) {
    return {
      kind: 'section',
      prefix: sectionStart[2],
      start: sectionStart[1].length,
      end,
      closed: /^\s*\]/.test(after.slice(rest.length)),
    };
  }
  const directiveStart = /^(\s*)([A-Za-z][A-Za-z0-9_.-]*)?$/.exec(before);
  // Right of the cursor there must be no header and no `=` yet, or inserting `Name=` would break the line.
  if (directiveStart && !ctx.header && !after.includes('=')) {
    return { kind: 'directive', section: ctx.section, prefix: directiveStart[2] ?? '', start: directiveStart[1].length, end };
  }
  return undefined;
}
