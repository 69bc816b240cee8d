// Entry point: create the shared services once, then register each feature.
import * as vscode from 'vscode';
import { registerNodeCommands } from './commands/nodeCommands';
import { createServices } from './services';
import { registerNodeFileSystem } from './views/nodeFileSystem';

export function activate(context: vscode.ExtensionContext): void {
  const services = createServices(context);
  registerNodeFileSystem(context, services.connections);
  registerNodeCommands(context, services);
}

export function deactivate(): void {
  // Everything is in context.subscriptions, which VS Code disposes.
}
