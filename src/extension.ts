// Entry point: create the shared services once, then register each feature.
import * as vscode from 'vscode';
import { registerDebugCommands } from './commands/debugCommands';
import { registerNodeCommands } from './commands/nodeCommands';
import { registerKubeletDebugger } from './debug/registerDebugger';
import { createServices } from './services';
import { registerNodeFileSystem } from './views/nodeFileSystem';

export function activate(context: vscode.ExtensionContext): void {
  const services = createServices(context);
  registerNodeFileSystem(context, services.connections);
  registerNodeCommands(context, services);
  registerKubeletDebugger(context, services);
  registerDebugCommands(context, services);
}

export function deactivate(): void {
  // Everything is in context.subscriptions, which VS Code disposes.
}
