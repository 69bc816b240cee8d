// Files on nodes as a read-only FileSystemProvider over the node's shared SSH connection. Files
// the login user may not read are read through sudo. SFTP status codes map to FileSystemError.
import * as vscode from 'vscode';
import type { Stats } from 'ssh2';
import { UserError } from '../common/errors';
import type { ConnectionManager } from '../ssh/nodeConnection';
import { NODE_FILE_SCHEME, parseNodeFileUri } from './nodeUri';

// SFTP status codes (draft-ietf-secsh-filexfer-02).
const SFTP_NO_SUCH_FILE = 2;
const SFTP_PERMISSION_DENIED = 3;

export class NodeFileSystem implements vscode.FileSystemProvider {
  private readonly changed = new vscode.EventEmitter<vscode.FileChangeEvent[]>();
  readonly onDidChangeFile = this.changed.event;

  constructor(private readonly connections: ConnectionManager) {}

  watch(): vscode.Disposable {
    // Node files change rarely and polling over SSH costs round trips; editors re-read on focus.
    return new vscode.Disposable(() => undefined);
  }

  async stat(uri: vscode.Uri): Promise<vscode.FileStat> {
    const { path } = parseNodeFileUri(uri);
    const sftp = await this.sftp(uri);
    const stats = await new Promise<Stats>((resolve, reject) => sftp.stat(path, (err, s) => (err ? reject(mapSftpError(err, uri)) : resolve(s))));
    return {
      type: stats.isDirectory() ? vscode.FileType.Directory : stats.isSymbolicLink() ? vscode.FileType.SymbolicLink : vscode.FileType.File,
      ctime: stats.mtime * 1000,
      mtime: stats.mtime * 1000,
      size: stats.size,
      permissions: vscode.FilePermission.Readonly,
    };
  }

  async readDirectory(uri: vscode.Uri): Promise<[string, vscode.FileType][]> {
    const { path } = parseNodeFileUri(uri);
    const sftp = await this.sftp(uri);
    const list = await new Promise<{ filename: string; attrs: Stats }[]>((resolve, reject) =>
      sftp.readdir(path, (err, l) => (err ? reject(mapSftpError(err, uri)) : resolve(l))),
    );
    return list.map((e) => [e.filename, e.attrs.isDirectory() ? vscode.FileType.Directory : vscode.FileType.File]);
  }

  async readFile(uri: vscode.Uri): Promise<Uint8Array> {
    const { node, path } = parseNodeFileUri(uri);
    const sftp = await this.sftp(uri);
    try {
      return await new Promise<Buffer>((resolve, reject) => sftp.readFile(path, (err, data) => (err ? reject(err) : resolve(data))));
    } catch (err) {
      if ((err as { code?: number }).code !== SFTP_PERMISSION_DENIED) {
        throw mapSftpError(err, uri);
      }
      // Root-only files (kubelet's PKI, some drop-ins) are readable through sudo.
      const result = await this.connections.get(node).execAsRoot(['cat', '--', path]);
      if (result.code !== 0) {
        throw vscode.FileSystemError.NoPermissions(`${path} on ${node}: ${result.stderr.trim()}`);
      }
      return Buffer.from(result.stdout, 'utf8');
    }
  }

  writeFile(uri: vscode.Uri): never {
    throw vscode.FileSystemError.NoPermissions(uri);
  }

  createDirectory(uri: vscode.Uri): never {
    throw vscode.FileSystemError.NoPermissions(uri);
  }

  delete(uri: vscode.Uri): never {
    throw vscode.FileSystemError.NoPermissions(uri);
  }

  rename(uri: vscode.Uri): never {
    throw vscode.FileSystemError.NoPermissions(uri);
  }

  private async sftp(uri: vscode.Uri) {
    try {
      return await this.connections.get(parseNodeFileUri(uri).node).sftp();
    } catch (err) {
      throw vscode.FileSystemError.Unavailable(err instanceof UserError ? err.display : `${uri.authority}: ${(err as Error).message}`);
    }
  }

  dispose(): void {
    this.changed.dispose();
  }
}

function mapSftpError(err: unknown, uri: vscode.Uri): vscode.FileSystemError {
  const code = (err as { code?: number }).code;
  if (code === SFTP_NO_SUCH_FILE) {
    return vscode.FileSystemError.FileNotFound(uri);
  }
  if (code === SFTP_PERMISSION_DENIED) {
    return vscode.FileSystemError.NoPermissions(uri);
  }
  return vscode.FileSystemError.Unavailable(`${uri.authority}${uri.path}: ${(err as Error).message}`);
}

export function registerNodeFileSystem(context: vscode.ExtensionContext, connections: ConnectionManager): void {
  const provider = new NodeFileSystem(connections);
  context.subscriptions.push(provider, vscode.workspace.registerFileSystemProvider(NODE_FILE_SCHEME, provider, { isCaseSensitive: true, isReadonly: true }));
}
