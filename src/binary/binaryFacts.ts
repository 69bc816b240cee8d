// Everything the launcher needs to know about a Go binary before it touches the node, read from the
// file itself (locally, or over SFTP on the node): its Go version, its build settings, whether Delve
// can debug it, and the Kubernetes version it was stamped with. Nothing here runs the binary.
import { GoBuildInfo, readGoBuildInfo } from './goBuildInfo';
import { versionFromLdflags } from './binaryVersion';
import { DebugBinaryVerdict, judgeDebugBinary } from './debugBinaryCheck';
import { ReadAt, readElfSections } from './elfSections';

export interface BinaryFacts {
  info: GoBuildInfo;
  verdict: DebugBinaryVerdict;
  /** The Kubernetes version stamped by the build (-X …/version.gitVersion), if any. */
  stampedVersion?: string;
}

export async function readBinaryFacts(readAt: ReadAt): Promise<BinaryFacts> {
  const [sections, info] = await Promise.all([readElfSections(readAt), readGoBuildInfo(readAt)]);
  return {
    info,
    verdict: judgeDebugBinary(sections, info.settings),
    stampedVersion: versionFromLdflags(info.settings.get('-ldflags') ?? ''),
  };
}
