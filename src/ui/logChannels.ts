// One LogOutputChannel per area, adapted to the core's Logger. "Developer: Set Log Level" controls
// verbosity, so there is no setting of our own for it.
import * as vscode from 'vscode';
import type { Logger } from '../common/logger';

export interface LogChannels {
  ssh: vscode.LogOutputChannel;
  debug: vscode.LogOutputChannel;
}

export function createLogChannels(context: vscode.ExtensionContext): LogChannels {
  const channels = {
    ssh: vscode.window.createOutputChannel(vscode.l10n.t('Kubelet: SSH'), { log: true }),
    debug: vscode.window.createOutputChannel(vscode.l10n.t('Kubelet: Debug'), { log: true }),
  };
  context.subscriptions.push(channels.ssh, channels.debug);
  return channels;
}

export function asLogger(channel: vscode.LogOutputChannel): Logger {
  return {
    trace: (m) => channel.trace(m),
    debug: (m) => channel.debug(m),
    info: (m) => channel.info(m),
    warn: (m) => channel.warn(m),
    error: (m) => channel.error(m),
  };
}
