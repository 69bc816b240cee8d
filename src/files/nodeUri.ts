// URIs of files on nodes: kubelet-node://<node>/<absolute path>. The node part is the alias or
// user@host:port exactly as the user named it, so the same connection serves the editor.
import * as vscode from 'vscode';

export const NODE_FILE_SCHEME = 'kubelet-node';

export function nodeFileUri(node: string, path: string): vscode.Uri {
  return vscode.Uri.from({ scheme: NODE_FILE_SCHEME, authority: node, path });
}

export function parseNodeFileUri(uri: vscode.Uri): { node: string; path: string } {
  return { node: uri.authority, path: uri.path };
}
