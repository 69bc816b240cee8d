// The version of a binary on the node ("Kubernetes v1.20.2"), for the Nodes view and the skew check.
// It comes from the version stamp in the binary's build info; only a binary without one is asked
// with `--version`, and then under a time limit, since a daemon without that flag may just start.
import type { NodeConnection } from '../ssh/nodeConnection';
import { readBinaryFacts } from './binaryFacts';
import { withSftpReader } from './fileReaders';

const VERSION_FLAG_SECONDS = 5;

export async function readNodeBinaryVersion(node: NodeConnection, binary: string, signal?: AbortSignal): Promise<string> {
  try {
    const facts = await withSftpReader(await node.sftp(), binary, readBinaryFacts);
    if (facts.stampedVersion) {
      return `Kubernetes ${facts.stampedVersion}`;
    }
  } catch {
    // Not readable by the login user, not ELF or not Go: fall back to asking the binary.
  }
  const result = await node.exec(['timeout', '-k', '2', String(VERSION_FLAG_SECONDS), binary, '--version'], {
    signal,
    timeoutMs: (VERSION_FLAG_SECONDS + 5) * 1000,
    maxBuffer: 64 * 1024,
  });
  return result.code === 0 ? result.stdout.trim().split('\n')[0] : '';
}
