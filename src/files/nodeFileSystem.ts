// Files on nodes as a FileSystemProvider over the node's shared SSH connection. Reads use SFTP (sudo
// for root-only files); writes go through the core's atomic, conflict-checked write, and unit files are
// checked by systemd before it reloads them. SFTP status codes and our error codes map to FileSystemError.
import * as vscode from 'vscode';
import type { Stats } from 'ssh2';
import { ErrorCode, errors, UserError } from '../common/errors';
import type { ConnectionManager } from '../ssh/nodeConnection';
import { deleteNodePath, makeNodeDirectory, renameNodePath, sha256 } from '../node/nodeFileWrite';
import { CheckedWrite, writeUnitAwareFile } from '../systemd/unitFileCheck';
import type { Services } from '../services';
import { NODE_FILE_SCHEME, parseNodeFileUri } from './nodeUri';
import { NodeFileSaves } from './nodeFileSaves';

// SFTP status codes (draft-ietf-secsh-filexfer-02).
const SFTP_NO_SUCH_FILE = 2;
const SFTP_PERMISSION_DENIED = 3;

/** What the provider tells the UI around it; kept narrow so the provider stays about files. */
export interface SaveFeedback {
  saved(uri: vscode.Uri, result: CheckedWrite): void;
  conflict(uri: vscode.Uri): void;
}

export class NodeFileSystem implements vscode.FileSystemProvider {
  private readonly changed = new vscode.EventEmitter<vscode.FileChangeEvent[]>();
  readonly onDidChangeFile = this.changed.event;
  /** sha256 of what each editor last read or wrote, so a save can tell whether the node's file moved on. */
  private readonly versions = new Map<string, string>();
  /** URIs whose next write skips the conflict check (the user chose Overwrite). */
  private readonly forced = new Set<string>();

  constructor(
    private readonly connections: ConnectionManager,
    private readonly feedback?: SaveFeedback,
  ) {}

  watch(): vscode.Disposable {
    // Node files change rarely and polling over SSH costs round trips; editors re-read on focus.
    return new vscode.Disposable(() => undefined);
  }

  async stat(uri: vscode.Uri): Promise<vscode.FileStat> {
    const { path } = parseNodeFileUri(uri);
    const sftp = await this.sftp(uri);
    const stats = await new Promise<Stats>((resolve, reject) =>
      sftp.stat(path, (err, s) => (err ? reject(mapSftpError(err, uri)) : resolve(s))),
    );
    return {
      type: stats.isDirectory() ? vscode.FileType.Directory : stats.isSymbolicLink() ? vscode.FileType.SymbolicLink : vscode.FileType.File,
      ctime: stats.mtime * 1000,
      mtime: stats.mtime * 1000,
      size: stats.size,
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
    const content = await this.readCurrent(uri);
    this.versions.set(uri.toString(), sha256(content));
    return content;
  }

  /** The node's file as it is now, without moving the version a later save is checked against. */
  async readCurrent(uri: vscode.Uri): Promise<Uint8Array> {
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
        throw vscode.FileSystemError.NoPermissions(vscode.l10n.t('{0} on {1}: {2}', path, node, result.stderr.trim()));
      }
      return Buffer.from(result.stdout, 'utf8');
    }
  }

  /** Lets the next save of `uri` replace the node's file even though it changed since it was read. */
  allowOverwrite(uri: vscode.Uri): void {
    this.forced.add(uri.toString());
  }

  async writeFile(uri: vscode.Uri, content: Uint8Array, options: { create: boolean; overwrite: boolean }): Promise<void> {
    refuseUntrusted(vscode.l10n.t('Saving a file on a node'));
    const { node, path } = parseNodeFileUri(uri);
    const key = uri.toString();
    const expectedSha256 = this.forced.delete(key) ? undefined : this.versions.get(key);
    let result: CheckedWrite;
    try {
      result = await writeUnitAwareFile(this.connections.get(node), path, content, { ...options, expectedSha256 });
    } catch (err) {
      if (err instanceof UserError && err.code === ErrorCode.NodeFileConflict) {
        this.feedback?.conflict(uri);
      }
      throw toFileSystemError(err, uri);
    }
    this.versions.set(key, sha256(content));
    this.changed.fire([{ type: result.created ? vscode.FileChangeType.Created : vscode.FileChangeType.Changed, uri }]);
    this.feedback?.saved(uri, result);
  }

  async createDirectory(uri: vscode.Uri): Promise<void> {
    refuseUntrusted(vscode.l10n.t('Creating a folder on a node'));
    const { node, path } = parseNodeFileUri(uri);
    await makeNodeDirectory(this.connections.get(node), path).catch((err) => Promise.reject(toFileSystemError(err, uri)));
    this.changed.fire([{ type: vscode.FileChangeType.Created, uri }]);
  }

  async delete(uri: vscode.Uri, options: { recursive: boolean }): Promise<void> {
    refuseUntrusted(vscode.l10n.t('Deleting a file on a node'));
    const { node, path } = parseNodeFileUri(uri);
    await deleteNodePath(this.connections.get(node), path, options.recursive).catch((err) => Promise.reject(toFileSystemError(err, uri)));
    this.versions.delete(uri.toString());
    this.changed.fire([{ type: vscode.FileChangeType.Deleted, uri }]);
  }

  async rename(oldUri: vscode.Uri, newUri: vscode.Uri, options: { overwrite: boolean }): Promise<void> {
    refuseUntrusted(vscode.l10n.t('Renaming a file on a node'));
    const from = parseNodeFileUri(oldUri);
    const to = parseNodeFileUri(newUri);
    if (from.node !== to.node) {
      throw vscode.FileSystemError.Unavailable(vscode.l10n.t('Files can only be renamed within one node.'));
    }
    await renameNodePath(this.connections.get(from.node), from.path, to.path, options.overwrite).catch((err) =>
      Promise.reject(toFileSystemError(err, newUri)),
    );
    this.versions.delete(oldUri.toString());
    this.changed.fire([
      { type: vscode.FileChangeType.Deleted, uri: oldUri },
      { type: vscode.FileChangeType.Created, uri: newUri },
    ]);
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

/** Restricted Mode: node files can be read, not changed. */
function refuseUntrusted(action: string): void {
  if (!vscode.workspace.isTrusted) {
    throw vscode.FileSystemError.NoPermissions(errors.workspaceNotTrusted(action).display);
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

/** Our coded errors as the FileSystemError VS Code expects; the message keeps the code and remedy. */
function toFileSystemError(err: unknown, uri: vscode.Uri): vscode.FileSystemError {
  if (!(err instanceof UserError)) {
    return vscode.FileSystemError.Unavailable(`${uri.authority}${uri.path}: ${(err as Error).message}`);
  }
  switch (err.code) {
    case ErrorCode.NodeFileNotFound:
      return vscode.FileSystemError.FileNotFound(err.display);
    case ErrorCode.NodeFileExists:
      return vscode.FileSystemError.FileExists(err.display);
    case ErrorCode.NodeFileIsDirectory:
      return vscode.FileSystemError.FileIsADirectory(err.display);
    case ErrorCode.SudoNeedsPassword:
      return vscode.FileSystemError.NoPermissions(err.display);
    case ErrorCode.NodeFileConflict:
      return new vscode.FileSystemError(err.display);
    default:
      return vscode.FileSystemError.Unavailable(err.display);
  }
}

export function registerNodeFileSystem(context: vscode.ExtensionContext, services: Services): NodeFileSystem {
  const saves = new NodeFileSaves(services, () => provider);
  const provider: NodeFileSystem = new NodeFileSystem(services.connections, saves);
  // In Restricted Mode editors of node files open read-only and say why; granting trust lifts it
  // (the provider refuses writes itself too, in case an editor was opened before).
  const register = () =>
    vscode.workspace.registerFileSystemProvider(NODE_FILE_SCHEME, provider, {
      isCaseSensitive: true,
      isReadonly: vscode.workspace.isTrusted
        ? undefined
        : new vscode.MarkdownString(
            vscode.l10n.t('Files on nodes are read-only in Restricted Mode. Trust this folder (Manage Workspace Trust) to edit them.'),
          ),
    });
  let registration = register();
  context.subscriptions.push(
    provider,
    saves,
    { dispose: () => registration.dispose() },
    vscode.workspace.onDidGrantWorkspaceTrust(() => {
      registration.dispose();
      registration = register();
    }),
  );
  return provider;
}
