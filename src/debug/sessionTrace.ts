// The launch attribute `trace`, as vscode-go means it (the adapter's own log level), mapped onto the
// "Kubelet: Debug" LogOutputChannel: every DAP message is logged there at Trace level, and the
// channel's own level, which "Developer: Set Log Level" also sets, decides what shows.
import * as vscode from 'vscode';
import type { TraceLevel } from './launchConfig';

/** The channel level each `trace` value asks for. */
const CHANNEL_LEVEL: Record<TraceLevel, vscode.LogLevel> = {
  verbose: vscode.LogLevel.Trace,
  trace: vscode.LogLevel.Trace,
  log: vscode.LogLevel.Info,
  info: vscode.LogLevel.Info,
  warn: vscode.LogLevel.Warning,
  error: vscode.LogLevel.Error,
};

/** Logs a session's DAP traffic, unless its `trace` asks for less than Trace. */
export function dapTrafficTracker(
  session: vscode.DebugSession,
  log: vscode.LogOutputChannel,
  extensionId: string,
): vscode.DebugAdapterTracker {
  const trace = session.configuration.trace as TraceLevel | undefined;
  if (trace !== undefined && CHANNEL_LEVEL[trace] !== vscode.LogLevel.Trace) {
    return {};
  }
  // Until the channel shows Trace, the first messages (initialize, launch) wait, so none is lost.
  let waiting: string[] | undefined;
  if (trace !== undefined && !isTraceShown(log.logLevel)) {
    waiting = [];
    void showTraceLevel(log, extensionId).finally(() => {
      waiting?.forEach((line) => log.trace(line));
      waiting = undefined;
    });
  }
  const write = (line: string) => (waiting ? waiting.push(line) : log.trace(line));
  return {
    onWillReceiveMessage: (m: unknown) => write(`VS Code → Delve ${JSON.stringify(m)}`),
    onDidSendMessage: (m: unknown) => write(`Delve → VS Code ${JSON.stringify(m)}`),
  };
}

/**
 * `trace: "verbose"` means "show me the DAP traffic": raise the channel to Trace when it is less
 * verbose (never lower it), the way its level menu in the Output view does, or say how.
 */
async function showTraceLevel(log: vscode.LogOutputChannel, extensionId: string): Promise<void> {
  const raised = new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => done(false), 3000);
    const sub = log.onDidChangeLogLevel((level) => isTraceShown(level) && done(true));
    function done(ok: boolean): void {
      clearTimeout(timer);
      sub.dispose();
      resolve(ok);
    }
  });
  try {
    // The Output view's level menu acts on the channel it shows; showing ours through the view's own
    // command (awaited, unlike LogOutputChannel.show) makes sure the menu cannot hit another channel.
    // A log channel's id is the extension's id and its log file's name.
    await vscode.commands.executeCommand(`workbench.action.output.show.${extensionId}.${log.name.replace(/[\\/:*?"<>|]/g, '')}.log`);
    await vscode.commands.executeCommand(`workbench.action.output.activeOutputLogLevel.${vscode.LogLevel.Trace}`);
  } catch {
    // A VS Code without these commands: the user is told below.
  }
  if ((await raised) || isTraceShown(log.logLevel)) {
    log.info('"trace" asked for the DAP traffic: this channel now shows Trace, with every message between VS Code and Delve.');
    return;
  }
  const set = 'Set Log Level…';
  void vscode.window
    .showInformationMessage(
      `"trace" asks for the DAP traffic, which "${log.name}" logs at Trace level; that channel shows ${vscode.LogLevel[log.logLevel]} and above. Set it to Trace with "Developer: Set Log Level…".`,
      set,
    )
    .then((choice) => choice === set && vscode.commands.executeCommand('workbench.action.setLogLevel'));
}

function isTraceShown(level: vscode.LogLevel): boolean {
  return level === vscode.LogLevel.Trace;
}
