// One LogOutputChannel per area, adapted to the core's Logger. "Developer: Set Log Level" controls
// verbosity, so there is no setting of our own for it.
import * as vscode from 'vscode';
import type { Logger } from '../common/logger';

export interface LogChannels {
  ssh: vscode.LogOutputChannel;
  debug: vscode.LogOutputChannel;
}

/** The channels; activate() adds them to the subscriptions last, so every other disposal can still log. */
export function createLogChannels(): LogChannels {
  return {
    ssh: vscode.window.createOutputChannel(vscode.l10n.t('Kubelet: SSH'), { log: true }),
    debug: vscode.window.createOutputChannel(vscode.l10n.t('Kubelet: Debug'), { log: true }),
  };
}

/**
 * The core's Logger over a LogOutputChannel. Logging never throws: on shutdown VS Code may dispose
 * the channel before the services that log to it, and a write to a disposed channel throws
 * "Channel has been closed", which would cut the remaining disposals short.
 */
export function asLogger(channel: vscode.LogOutputChannel): Logger {
  const safely = (write: (message: string) => void) => (message: string) => {
    try {
      write.call(channel, message);
    } catch {
      // The channel is gone; there is nowhere left to write to.
    }
  };
  return {
    trace: safely(channel.trace),
    debug: safely(channel.debug),
    info: safely(channel.info),
    warn: safely(channel.warn),
    error: safely(channel.error),
  };
}
