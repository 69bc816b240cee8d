// Entry point: create the shared services once, then register each feature.
import * as vscode from 'vscode';
import { registerDebugCommands } from './commands/debugCommands';
import { registerNodeCommands } from './commands/nodeCommands';
import { registerUnitCommands } from './commands/unitCommands';
import { registerDebuggerPickerContext } from './debug/debuggerPicker';
import { registerKubeletDebugger } from './debug/registerDebugger';
import { registerUnitLanguageFeatures } from './language/unitLanguageFeatures';
import { createServices } from './services';
import { registerNodeFileSystem } from './files/nodeFileSystem';

/** What activate() returns: the Nodes tree's data, for tests and for other extensions. */
export interface KubeletExtensionApi {
  nodesTree: vscode.TreeDataProvider<unknown>;
  /** The value last given to the `kubelet.offerDebugger` context key (VS Code cannot read one back). */
  debuggerOffered(): Promise<boolean>;
  /** Settles once the start-up check has uncordoned what a crashed VS Code left cordoned (the Debug log says what it did). */
  leftoverCordonsChecked(): Promise<void>;
}

export function activate(context: vscode.ExtensionContext): KubeletExtensionApi {
  const services = createServices(context);
  registerNodeFileSystem(context, services);
  registerNodeCommands(context, services);
  registerUnitCommands(context, services);
  const cordonCheck = registerKubeletDebugger(context, services);
  registerDebugCommands(context, services);
  registerUnitLanguageFeatures(context);
  const debuggerOffered = registerDebuggerPickerContext(context);
  // VS Code disposes subscriptions in order: the log channels go last, after everything that logs.
  context.subscriptions.push(services.logs.ssh, services.logs.debug);
  return { nodesTree: services.nodesTree as vscode.TreeDataProvider<unknown>, debuggerOffered, leftoverCordonsChecked: () => cordonCheck };
}

export function deactivate(): void {
  // Everything is in context.subscriptions, which VS Code disposes.
}
