// A real Kubernetes v1.20.2 cluster for tests: a control-plane test node (etcd, kube-apiserver,
// kube-controller-manager) and a real-kubelet worker registered with it, plus kubectl on the host side.
// See test/node/README.md ("The test cluster").
import { execFile, execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { bootTestNode, TestNode } from '../node/testNode';
import { clientCertificate } from './kubeconfigFixtures';

export interface KubectlResult {
  stdout: string;
  stderr: string;
  code: number;
}

export interface TestCluster {
  controlPlane: TestNode;
  /** The real-kubelet node, registered under its machine name; its InternalIP is its SSH address. */
  worker: TestNode;
  /** kubeadm's admin.conf (cluster-admin); its server, https://<control plane address>:6443, is reachable from the host. */
  kubeconfigPath: string;
  /** The cluster CA (kubeadm's pki/ca.crt and ca.key), for tests that make their own credentials. */
  caCertPath: string;
  caKeyPath: string;
  /** kubectl v1.20.2 (Debian's kubernetes-client), the same release as the cluster. */
  kubectlPath: string;
  /** Runs kubectl with the admin kubeconfig; resolves with its exit code (never rejects on a non-zero one). */
  kubectl(args: string[], timeoutMs?: number): Promise<KubectlResult>;
  /** The node's Ready condition status ('True', 'False', 'Unknown'), or undefined while it is not registered. */
  readyStatus(nodeName?: string): Promise<string | undefined>;
  /** Stops the worker and the control plane. */
  stop(): Promise<void>;
}

export interface ClusterOptions {
  /** Receives the boot scripts' progress lines (a first run builds the control plane for several minutes). */
  log?: (line: string) => void;
}

/**
 * Boots the control plane, then the worker, which joins it. boot-node.sh returns only once the API server
 * is ready and the worker's node object is Ready. The worker's kubelet reports every 5 s, and the
 * controller-manager marks a node NotReady 20 s after its last report (--node-monitor-grace-period=20s,
 * checked every 2 s: --node-monitor-period=2s), so a stopped kubelet shows NotReady about 20 s later.
 */
export async function bootCluster(opts: ClusterOptions = {}): Promise<TestCluster> {
  const kubectlPath = path.join(controlPlaneBuild(), 'kubectl');
  const controlPlane = await bootTestNode({ kind: 'control-plane', log: opts.log });
  let worker: TestNode;
  try {
    worker = await bootTestNode({ kind: 'real', controlPlane, log: opts.log });
  } catch (err) {
    await controlPlane.stop();
    throw err;
  }
  const kubeconfigPath = controlPlane.kubeconfigPath;
  if (!kubeconfigPath) {
    await worker.stop();
    await controlPlane.stop();
    throw new Error(`the control-plane node ${controlPlane.name} recorded no kubeconfig in ${controlPlane.stateDir}/node.json`);
  }
  const kubectl = (args: string[], timeoutMs = 30_000) => runKubectl(kubectlPath, kubeconfigPath, args, timeoutMs);
  return {
    controlPlane,
    worker,
    kubeconfigPath,
    caCertPath: path.join(controlPlane.stateDir, 'pki', 'ca.crt'),
    caKeyPath: path.join(controlPlane.stateDir, 'pki', 'ca.key'),
    kubectlPath,
    kubectl,
    readyStatus: async (nodeName = worker.name) => {
      const r = await kubectl(['get', 'node', nodeName, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}']);
      if (r.code !== 0) {
        if (/NotFound/.test(r.stderr)) {
          return undefined;
        }
        throw new Error(`kubectl get node ${nodeName} failed (exit code ${r.code}): ${r.stderr.trim()}`);
      }
      return r.stdout.trim() || undefined;
    },
    stop: async () => {
      // Both at once: each halts in a few seconds, and nothing needs the other while it goes.
      const results = await Promise.allSettled([worker.stop(), controlPlane.stop()]);
      const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed.length > 0) {
        throw new Error(`stopping the test cluster failed: ${failed.map((r) => String(r.reason)).join('; ')}`);
      }
    },
  };
}

function runKubectl(kubectlPath: string, kubeconfigPath: string, args: string[], timeoutMs: number): Promise<KubectlResult> {
  return new Promise((resolve, reject) => {
    execFile(
      kubectlPath,
      [`--kubeconfig=${kubeconfigPath}`, `--request-timeout=${Math.ceil(timeoutMs / 1000)}s`, ...args],
      { timeout: timeoutMs + 5_000, killSignal: 'SIGKILL', maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = (err as { code?: unknown } | null)?.code;
        if (err && typeof code !== 'number') {
          // Not an exit code: kubectl did not start, or was killed at the time limit.
          return reject(new Error(`kubectl ${args.join(' ')} failed: ${err.message}`));
        }
        resolve({ stdout, stderr, code: typeof code === 'number' ? code : 0 });
      },
    );
  });
}

let buildDir: string | undefined;

/** The control-plane build (test/node/real/build-control-plane.sh); prints its folder at once when cached. */
export function controlPlaneBuild(): string {
  if (!buildDir) {
    const script = path.resolve(__dirname, '..', '..', '..', 'test', 'node', 'real', 'build-control-plane.sh');
    buildDir = execFileSync(script, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })
      .trim()
      .split('\n')
      .pop()!;
  }
  return buildDir;
}

/** Broken copies of a cluster's admin kubeconfig, for tests of how a client reports bad credentials. */
export interface BadKubeconfigs {
  /** The server is the control plane's address on a port where nothing listens: the connection is refused. */
  wrongServer: string;
  /** The client certificate was signed by the cluster CA but expired on 2020-01-02. */
  expiredCertificate: string;
  /** The client certificate's data is not a certificate at all. */
  garbledCertificate: string;
}

/** Writes the bad kubeconfigs into DIR (made if missing). Needs openssl on the host. */
export function writeBadKubeconfigs(cluster: TestCluster, dir: string): BadKubeconfigs {
  fs.mkdirSync(dir, { recursive: true });
  const admin = fs.readFileSync(cluster.kubeconfigPath, 'utf8');
  const withField = (field: string, value: string) => {
    const pattern = new RegExp(`^(\\s*${field}: ).*$`, 'm');
    if (!pattern.test(admin)) {
      throw new Error(`${cluster.kubeconfigPath} has no ${field} line`);
    }
    return admin.replace(pattern, `$1${value}`);
  };
  const write = (name: string, text: string) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, text, { mode: 0o600 });
    return file;
  };
  // A cluster-admin (O=system:masters) certificate signed by the cluster CA, valid only in 2020.
  const expired = clientCertificate(dir, '20200101000000Z', '20200102000000Z', {
    subject: '/O=system:masters/CN=krd-expired-admin',
    signer: { certPath: cluster.caCertPath, keyPath: cluster.caKeyPath },
  });
  return {
    wrongServer: write('wrong-server.conf', withField('server', `https://${cluster.controlPlane.address}:6444`)),
    expiredCertificate: write(
      'expired-certificate.conf',
      withField('client-certificate-data', Buffer.from(expired.cert).toString('base64')).replace(
        /^(\s*client-key-data: ).*$/m,
        `$1${Buffer.from(expired.key).toString('base64')}`,
      ),
    ),
    garbledCertificate: write(
      'garbled-certificate.conf',
      withField('client-certificate-data', Buffer.from('-----BEGIN CERTIFICATE-----\nnot a certificate\n-----END CERTIFICATE-----\n').toString('base64')),
    ),
  };
}

