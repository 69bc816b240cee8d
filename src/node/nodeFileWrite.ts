// Changes files on a node as root, safely: a write lands in a temp file beside the target and is
// renamed over it only when complete and unchanged since it was read, keeping mode, owner and SELinux
// context. Each operation is one remote shell script, so a dropped connection cannot leave it half-done.
import { createHash } from 'crypto';
import * as path from 'path';
import { ErrorCode, errors, UserError } from '../common/errors';
import type { NodeConnection } from '../ssh/nodeConnection';

export function sha256(content: Uint8Array | string): string {
  return createHash('sha256').update(content).digest('hex');
}

export interface WriteOptions {
  create: boolean;
  overwrite: boolean;
  /** sha256 of the content last read; the write is refused when the node's file differs. */
  expectedSha256?: string;
}

export interface WriteResult {
  /** The file actually replaced (a symlink's target). */
  path: string;
  created: boolean;
}

// Exit codes of the scripts below, chosen above what sh, cat and mv use themselves.
const EXIT_EXISTS = 71;
const EXIT_NOT_FOUND = 72;
const EXIT_CONFLICT = 73;
const EXIT_INCOMPLETE = 74;
const EXIT_NO_PARENT = 75;
const EXIT_IS_DIRECTORY = 76;

// $1 target, $2 temp name (basename), $3 sha256 of the new content, $4 expected sha256 of the old
// content or "", $5 "c" and/or "o" (create, overwrite). The trap removes the temp file on every
// exit, including SIGHUP/SIGPIPE when the connection drops; the checksum stops a short stdin (the
// connection cut mid-upload) from ever being renamed into place.
const WRITE_SCRIPT = `
t=$(readlink -f -- "$1") || t=$1
if [ -d "$t" ]; then exit ${EXIT_IS_DIRECTORY}; fi
if [ -e "$t" ]; then case $5 in *o*) ;; *) exit ${EXIT_EXISTS};; esac
else case $5 in *c*) ;; *) exit ${EXIT_NOT_FOUND};; esac; fi
d=$(dirname -- "$t")
[ -d "$d" ] || exit ${EXIT_NO_PARENT}
tmp=$d/$2
trap 'rm -f -- "$tmp"' EXIT
trap 'exit 129' HUP INT TERM PIPE
(umask 077 && cat > "$tmp") || exit 1
[ "$(sha256sum < "$tmp" | cut -c1-64)" = "$3" ] || exit ${EXIT_INCOMPLETE}
if [ -n "$4" ]; then
  now=$([ -e "$t" ] && sha256sum < "$t" | cut -c1-64)
  [ "$now" = "$4" ] || { echo "$now"; exit ${EXIT_CONFLICT}; }
fi
if [ -e "$t" ]; then
  created=0
  chmod --reference="$t" -- "$tmp" && chown --reference="$t" -- "$tmp" || exit 1
  if command -v chcon >/dev/null 2>&1; then chcon --reference="$t" -- "$tmp" 2>/dev/null || true; fi
else
  created=1
  chmod 0644 -- "$tmp" || exit 1
fi
mv -f -- "$tmp" "$t" || exit 1
trap - EXIT
echo "$created $t"
`;

function tempName(target: string): string {
  return `.${path.posix.basename(target)}.krd-${process.pid}-${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}.tmp`;
}

/** Replaces (or creates) `target` on the node with `content`, atomically, as root. */
export async function writeNodeFile(
  node: NodeConnection,
  target: string,
  content: Uint8Array,
  options: WriteOptions,
): Promise<WriteResult> {
  const flags = `${options.create ? 'c' : ''}${options.overwrite ? 'o' : ''}`;
  const argv = ['/bin/sh', '-c', WRITE_SCRIPT, 'sh', target, tempName(target), sha256(content), options.expectedSha256 ?? '', flags];
  const result = await node.execAsRoot(argv, { stdin: Buffer.from(content) });
  switch (result.code) {
    case 0: {
      const [created, ...rest] = result.stdout.trim().split(' ');
      return { path: rest.join(' ') || target, created: created === '1' };
    }
    case EXIT_EXISTS:
      throw errors.nodeFileExists(node.spec, target);
    case EXIT_NOT_FOUND:
      throw errors.nodeFileNotFound(node.spec, target);
    case EXIT_NO_PARENT:
      throw errors.nodeFileNotFound(node.spec, path.posix.dirname(target));
    case EXIT_IS_DIRECTORY:
      throw errors.nodeFileIsDirectory(node.spec, target);
    case EXIT_CONFLICT:
      throw errors.nodeFileConflict(node.spec, target);
    case EXIT_INCOMPLETE:
      throw errors.nodeFileWriteFailed(
        node.spec,
        target,
        'the upload was incomplete (connection dropped?); the file on the node was not changed',
      );
    case null:
      throw errors.nodeFileWriteFailed(
        node.spec,
        target,
        'the connection dropped before the node confirmed the write (the file there is either unchanged or wholly replaced, never partly written)',
      );
    default:
      throw errors.nodeFileWriteFailed(node.spec, target, result.stderr.trim() || `exit ${result.code}`);
  }
}

/** The sha256 of the node's file, or undefined when it does not exist. */
export async function nodeFileSha256(node: NodeConnection, target: string): Promise<string | undefined> {
  const result = await node.execAsRoot(['/bin/sh', '-c', '[ -e "$1" ] || exit 0; sha256sum < "$1" | cut -c1-64', 'sh', target]);
  if (result.code !== 0) {
    throw errors.remoteCommandFailed(node.spec, `reading ${target}`, result.code, result.stderr);
  }
  return result.stdout.trim() || undefined;
}

/** Removes a file (or, with recursive, a directory tree). */
export async function deleteNodePath(node: NodeConnection, target: string, recursive: boolean): Promise<void> {
  const script = `[ -e "$1" ] || [ -L "$1" ] || exit ${EXIT_NOT_FOUND}; if [ -d "$1" ] && [ ! -L "$1" ]; then [ "$2" = r ] && exec rm -rf -- "$1"; exec rmdir -- "$1"; fi; exec rm -f -- "$1"`;
  await runFileScript(node, `deleting ${target}`, target, ['/bin/sh', '-c', script, 'sh', target, recursive ? 'r' : '']);
}

/** Renames within the node; refuses to replace an existing target unless told to. */
export async function renameNodePath(node: NodeConnection, from: string, to: string, overwrite: boolean): Promise<void> {
  const script = `[ -e "$1" ] || exit ${EXIT_NOT_FOUND}; [ -d "$(dirname -- "$2")" ] || exit ${EXIT_NO_PARENT}; if [ -e "$2" ]; then [ "$3" = o ] || exit ${EXIT_EXISTS}; fi; exec mv -f -T -- "$1" "$2"`;
  await runFileScript(node, `renaming ${from}`, to, ['/bin/sh', '-c', script, 'sh', from, to, overwrite ? 'o' : '']);
}

export async function makeNodeDirectory(node: NodeConnection, target: string): Promise<void> {
  const script = `[ -e "$1" ] && exit ${EXIT_EXISTS}; [ -d "$(dirname -- "$1")" ] || exit ${EXIT_NO_PARENT}; exec mkdir -m 0755 -- "$1"`;
  await runFileScript(node, `creating ${target}`, target, ['/bin/sh', '-c', script, 'sh', target]);
}

async function runFileScript(node: NodeConnection, what: string, target: string, argv: string[]): Promise<void> {
  const result = await node.execAsRoot(argv);
  switch (result.code) {
    case 0:
      return;
    case EXIT_EXISTS:
      throw errors.nodeFileExists(node.spec, target);
    case EXIT_NOT_FOUND:
      throw errors.nodeFileNotFound(node.spec, target);
    case EXIT_NO_PARENT:
      throw errors.nodeFileNotFound(node.spec, path.posix.dirname(target));
    default:
      throw errors.remoteCommandFailed(node.spec, what, result.code, result.stderr);
  }
}

export function isNodeFileError(err: unknown, code: ErrorCode): err is UserError {
  return err instanceof UserError && err.code === code;
}
