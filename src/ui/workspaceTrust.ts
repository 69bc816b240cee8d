// Restricted Mode: reading nodes works, but anything that runs a program on a node or changes it
// (debugging, saving, unit actions) needs a trusted workspace.
import * as vscode from 'vscode';
import { errors } from '../common/errors';

/** Throws the coded "needs a trusted workspace" error; `action` names what was refused. */
export function assertTrusted(action: string): void {
  if (!vscode.workspace.isTrusted) {
    throw errors.workspaceNotTrusted(action);
  }
}
