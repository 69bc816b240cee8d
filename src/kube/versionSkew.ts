// Version skew between the node's kubelet and the debug build. The container hash the kubelet
// compares (containerChanged) depends on the version: a different minor, or crossing 1.31, can make
// the debug kubelet restart every container on the node.

export interface KubeVersion {
  major: number;
  minor: number;
  patch: number;
  text: string;
}

/** Parses "Kubernetes v1.30.2" (or a bare "v1.30.2-rc.0"). */
export function parseKubernetesVersion(output: string): KubeVersion | undefined {
  const m = /v?(\d+)\.(\d+)\.(\d+)\S*/.exec(output);
  return m ? { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]), text: m[0].startsWith('v') ? m[0] : `v${m[0]}` } : undefined;
}

/** A warning to confirm, or undefined when the two versions are safe together. */
export function checkVersionSkew(running: KubeVersion | undefined, debug: KubeVersion | undefined): string | undefined {
  if (!running || !debug) {
    return undefined;
  }
  const straddles = running.minor < 31 !== debug.minor < 31 && running.major === 1 && debug.major === 1;
  if (running.major === debug.major && running.minor === debug.minor) {
    return undefined;
  }
  return (
    `The node runs kubelet ${running.text}, the debug build is ${debug.text}.` +
    (straddles ? ' The container hash changed in 1.31, so' : ' Across minor versions') +
    ' the debug kubelet may restart every container on this node (containerChanged sees a new hash).'
  );
}

/**
 * The kubelet version-skew policy against the API server: a kubelet must not be newer than
 * kube-apiserver, and may be at most two minor versions older (three from Kubernetes 1.28).
 */
export function checkApiServerSkew(apiServer: KubeVersion | undefined, kubelet: KubeVersion | undefined): string | undefined {
  if (!apiServer || !kubelet || apiServer.major !== kubelet.major) {
    return undefined;
  }
  const allowedOlder = apiServer.minor >= 28 ? 3 : 2;
  if (kubelet.minor > apiServer.minor) {
    return `The debug kubelet ${kubelet.text} is newer than the cluster's API server ${apiServer.text}; the version-skew policy does not allow a kubelet newer than kube-apiserver (it may use API fields the server does not have).`;
  }
  if (apiServer.minor - kubelet.minor > allowedOlder) {
    return `The debug kubelet ${kubelet.text} is ${apiServer.minor - kubelet.minor} minor versions older than the cluster's API server ${apiServer.text}; the version-skew policy allows at most ${allowedOlder}.`;
  }
  return undefined;
}
