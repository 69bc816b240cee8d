// The test cluster itself: a real control plane (etcd, kube-apiserver, kube-controller-manager v1.20.2)
// with the real-kubelet worker registered through its kubelet kubeconfig, and the node lifecycle
// controller's real NotReady clock when that kubelet stops.
import * as assert from 'assert';
import { bootCluster, TestCluster, writeBadKubeconfigs } from '../support/cluster';
import { removeTempDir, tempDir } from '../support/tempDirs';
import { until } from '../support/until';

describe('The test cluster (control plane and a registered real-kubelet worker)', function () {
  this.timeout(180_000);
  let cluster: TestCluster;

  before(async function () {
    this.timeout(30 * 60 * 1000); // a fresh machine builds Kubernetes first
    cluster = await bootCluster({ log: (line) => process.stdout.write(`    [cluster] ${line}\n`) });
  });
  after(async function () {
    this.timeout(60_000);
    await cluster?.stop();
  });

  it('lists the worker as Ready with kubelet v1.20.2 and its SSH address as InternalIP, from a host-side kubeconfig', async () => {
    const r = await cluster.kubectl(['get', 'nodes', '-o', 'json']);
    assert.strictEqual(r.code, 0, r.stderr);
    const nodes = (JSON.parse(r.stdout) as { items: NodeJson[] }).items;
    assert.deepStrictEqual(
      nodes.map((n) => n.metadata.name),
      [cluster.worker.name],
      'the control plane runs no kubelet, so the worker is the only node',
    );
    const node = nodes[0];
    assert.strictEqual(node.status.nodeInfo.kubeletVersion, 'v1.20.2');
    assert.strictEqual(node.status.conditions.find((c) => c.type === 'Ready')?.status, 'True');
    assert.deepStrictEqual(
      node.status.addresses.filter((a) => a.type === 'InternalIP').map((a) => a.address),
      [cluster.worker.address],
    );
    const version = await cluster.kubectl(['version', '-o', 'json']);
    assert.strictEqual(version.code, 0, version.stderr);
    assert.strictEqual((JSON.parse(version.stdout) as { serverVersion: { gitVersion: string } }).serverVersion.gitVersion, 'v1.20.2');
  });

  it("shows the worker's static pod as a running mirror pod on it, and reaches the kubelet for its log", async () => {
    const podName = `ticker-${cluster.worker.name}`;
    const phase = await until(`${podName} Running`, async () => {
      const r = await cluster.kubectl(['get', 'pod', podName, '-o', 'jsonpath={.spec.nodeName} {.status.phase}']);
      return r.code === 0 && r.stdout.endsWith(' Running') ? r.stdout : undefined;
    });
    assert.strictEqual(phase, `${cluster.worker.name} Running`);
    // The API server asks the worker's kubelet (webhook-authorised) for the container's log.
    const log = await cluster.kubectl(['logs', podName, '--tail=1']);
    assert.strictEqual(log.code, 0, log.stderr);
    assert.match(log.stdout, /^tick \d+\n$/);
  });

  it('marks the worker NotReady once its kubelet has been stopped past the grace period, and Ready again once it runs', async () => {
    const stop = await cluster.worker.ssh('systemctl stop kubelet');
    assert.strictEqual(stop.code, 0, stop.stderr);
    try {
      // --node-monitor-grace-period=20s: the controller-manager sets Ready to Unknown ("Kubelet stopped posting node status").
      const status = await until('the worker NotReady', async () => {
        const s = await cluster.readyStatus();
        return s !== 'True' ? s : undefined;
      }, 90_000);
      assert.strictEqual(status, 'Unknown');
      const r = await cluster.kubectl(['get', 'node', cluster.worker.name, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].reason}']);
      assert.strictEqual(r.stdout, 'NodeStatusUnknown');
    } finally {
      const start = await cluster.worker.ssh('systemctl start kubelet');
      assert.strictEqual(start.code, 0, start.stderr);
    }
    assert.strictEqual(await until('the worker Ready again', async () => ((await cluster.readyStatus()) === 'True' ? 'True' : undefined), 90_000), 'True');
  });

  it('gives bad kubeconfigs that fail the way a client meets them: refused server, expired and garbled certificates', async () => {
    const dir = tempDir('bad-kubeconfig');
    try {
      const bad = writeBadKubeconfigs(cluster, dir);
      const get = (kubeconfig: string) => cluster.kubectl([`--kubeconfig=${kubeconfig}`, 'get', 'nodes'], 15_000);
      const refused = await get(bad.wrongServer);
      assert.notStrictEqual(refused.code, 0);
      assert.match(refused.stderr, /refused/);
      const expired = await get(bad.expiredCertificate);
      assert.notStrictEqual(expired.code, 0);
      assert.match(expired.stderr, /Unauthorized/);
      const garbled = await get(bad.garbledCertificate);
      assert.notStrictEqual(garbled.code, 0);
      assert.match(garbled.stderr, /certificate|PEM/i);
      // The same call with the good admin kubeconfig succeeds, so the failures are the credentials'.
      assert.strictEqual((await cluster.kubectl(['get', 'nodes'])).code, 0);
    } finally {
      removeTempDir(dir);
    }
  });
});

interface NodeJson {
  metadata: { name: string };
  status: {
    nodeInfo: { kubeletVersion: string };
    conditions: { type: string; status: string; reason: string }[];
    addresses: { type: string; address: string }[];
  };
}
