// The version of a binary on the node ("Kubernetes v1.20.2"), for the Nodes view and the skew check.
// It comes from the version stamp in the binary's build info. Only a Kubernetes binary without one is
// asked with `--version`, under a time limit: any other daemon may not know the flag and just start.
import * as path from 'path';
import type { NodeConnection } from '../ssh/nodeConnection';
import { readBinaryFacts } from './binaryFacts';
import { withSftpReader } from './fileReaders';

const VERSION_FLAG_SECONDS = 5;

export async function readNodeBinaryVersion(node: NodeConnection, binary: string, signal?: AbortSignal): Promise<string> {
  let kubernetes = path.posix.basename(binary) === 'kubelet';
  try {
    const facts = await withSftpReader(await node.sftp(), binary, readBinaryFacts);
    if (facts.stampedVersion) {
      return `Kubernetes ${facts.stampedVersion}`;
    }
    kubernetes = facts.info.mainPath.startsWith('k8s.io/kubernetes/');
  } catch {
    // Not readable by the login user, not ELF or not Go: only the kubelet's name vouches for --version.
  }
  if (!kubernetes) {
    return '';
  }
  const result = await node.exec(['timeout', '-k', '2', String(VERSION_FLAG_SECONDS), binary, '--version'], {
    signal,
    timeoutMs: (VERSION_FLAG_SECONDS + 5) * 1000,
    maxBuffer: 64 * 1024,
  });
  return result.code === 0 ? result.stdout.trim().split('\n')[0] : '';
}
