// The cluster part against a real control plane (etcd, kube-apiserver, kube-controller-manager
// v1.20.2) with the real-kubelet worker registered: the worker read from the kubeconfig, the cordon
// while its kubelet is halted under Delve, the real NotReady clock, the wait for Ready after the
// restore, the cordon undone at the next start after a killed extension host, and bad kubeconfigs.
import * as assert from 'assert';
import { spawn } from 'child_process';
import * as path from 'path';
import { podsOnNode, readClusterSnapshot } from '../../src/cluster/clusterNodes';
import { ClusterSession, describeClusterRestore } from '../../src/cluster/clusterSession';
import { recordOwnerAlive, undoLeftoverCordons } from '../../src/cluster/cordonRecords';
import { KubeApi } from '../../src/cluster/kubeApi';
import { KubeContextRef, loadContexts } from '../../src/cluster/kubeconfigs';
import { describeNodeHealth } from '../../src/cluster/nodeHealth';
import { matchSshTarget } from '../../src/cluster/sshTargets';
import { ErrorCode } from '../../src/common/errors';
import { launchKubeletUnderDelve } from '../../src/debug/kubeletLauncher';
import { checkApiServerSkew, parseKubernetesVersion } from '../../src/kube/versionSkew';
import type { NodeConnection } from '../../src/ssh/nodeConnection';
import { bootCluster, TestCluster, writeBadKubeconfigs } from '../support/cluster';
import { fileCordonStore } from '../support/cordonStore';
import { expectUserError } from '../support/expectUserError';
import { launchConfig, testHooks } from '../support/launchHooks';
import { connect, memoryLogger } from '../support/nodeClient';
import { expectNodeRestored, kubeletState } from '../support/nodeChecks';
import { realKubernetes } from '../support/realKubernetes';
import { removeTempDir, tempDir } from '../support/tempDirs';
import { until } from '../support/until';

describe('Cluster-aware debugging against a real control plane', function () {
  this.timeout(300_000);
  let cluster: TestCluster;
  let context: KubeContextRef;
  let api: KubeApi;
  let conn: NodeConnection;
  let dir: string;

  before(async function () {
    this.timeout(30 * 60 * 1000); // a fresh machine builds Kubernetes first
    cluster = await bootCluster({ log: (line) => process.stdout.write(`    [cluster] ${line}\n`) });
    context = loadContexts([cluster.kubeconfigPath]).contexts[0];
    api = KubeApi.forContext(context);
    conn = connect(cluster.worker);
    dir = tempDir('cluster');
  });
  after(async function () {
    this.timeout(60_000);
    conn?.disconnect();
    await cluster?.stop();
    if (dir) {
      removeTempDir(dir);
    }
  });

  const unschedulable = async () => {
    const r = await cluster.kubectl(['get', 'node', cluster.worker.name, '-o', 'jsonpath={.spec.unschedulable}']);
    assert.strictEqual(r.code, 0, r.stderr);
    return r.stdout.trim() === 'true';
  };

  it('reads the worker from the kubeconfig: Ready, kubelet v1.20.2, its address, its pod, and an SSH target from the template', async () => {
    const snapshot = await readClusterSnapshot(api);
    assert.strictEqual(snapshot.serverVersion, 'v1.20.2');
    assert.deepStrictEqual(
      snapshot.nodes.map((n) => [n.name, n.ready.status, n.kubeletVersion, n.internalIPs]),
      [[cluster.worker.name, 'True', 'v1.20.2', [cluster.worker.address]]],
    );
    assert.ok(snapshot.nodes[0].podCount >= 1, `the static pod counts: ${snapshot.nodes[0].podCount}`);
    // What the cordon question lists: the static pod's mirror, owned by the node.
    const pods = await podsOnNode(api, cluster.worker.name);
    assert.ok(pods.includes(`default/ticker-${cluster.worker.name} (Node)`), pods.join(', '));
    assert.strictEqual(pods.length, snapshot.nodes[0].podCount);
    assert.deepStrictEqual(matchSshTarget(snapshot.nodes[0], [], 'root@${InternalIP}'), {
      spec: `root@${cluster.worker.address}`,
      via: 'template',
    });
    const server = parseKubernetesVersion(snapshot.serverVersion ?? '');
    assert.strictEqual(checkApiServerSkew(server, parseKubernetesVersion('v1.20.2')), undefined);
    assert.match(checkApiServerSkew(server, parseKubernetesVersion('v1.21.0')) ?? '', /newer than the cluster's API server v1\.20\.2/);
  });

  it('cordons while the kubelet is halted past the grace period (the API says NotReady), and after the restore uncordons, waits for Ready and reports the NotReady time', async () => {
    const k8s = realKubernetes();
    const store = fileCordonStore(path.join(dir, 'halted.json'));
    const session = new ClusterSession(api, cluster.worker.name, cluster.worker.sshHosts.root, store, memoryLogger());
    const before = await kubeletState(cluster.worker);
    assert.strictEqual(await session.cordon('halted-session'), 'cordoned');
    assert.strictEqual(await unschedulable(), true, 'spec.unschedulable is true once cordoned');
    assert.deepStrictEqual(
      store.all().map((r) => [r.node, r.sessionId]),
      [[cluster.worker.name, 'halted-session']],
    );
    const hooks = testHooks({ graceSeconds: 120 });
    const target = await launchKubeletUnderDelve(
      conn,
      launchConfig({ host: cluster.worker.sshHosts.root, build: { where: 'none', binary: k8s.debugKubelet } }),
      k8s.src,
      hooks,
    );
    // Nobody attached: the kubelet stays halted under Delve, so it neither renews its lease nor posts status.
    const renew = setInterval(() => void target.renewLease().catch(() => undefined), 5000);
    try {
      const notReady = await until(
        'the controller-manager marks the worker not Ready',
        async () => {
          const h = await session.health();
          return h.ready.status !== 'True' ? h : undefined;
        },
        120_000,
      );
      assert.match(describeNodeHealth(notReady), /^(NotReady|Ready unknown) since \d+ s · lease \d+ s old$/);
      assert.ok((notReady.leaseAgeSeconds ?? 0) >= 15, `the lease is stale: ${notReady.leaseAgeSeconds} s`);
      assert.strictEqual(await unschedulable(), true, 'still cordoned while halted');
    } finally {
      clearInterval(renew);
    }
    const report = await target.restore();
    assert.strictEqual(report.activeState, 'active');
    const cluster_ = await session.afterRestore({ timeoutMs: 120_000 });
    assert.strictEqual(cluster_.uncordon, 'uncordoned');
    const ready = cluster_.ready;
    assert.ok(ready && !('error' in ready) && ready.ready, JSON.stringify(ready));
    assert.ok((ready.notReadySeconds ?? 0) > 0, `NotReady for ${ready.notReadySeconds} s`);
    const { notes, ok } = describeClusterRestore(cluster.worker.name, cluster_, 120);
    assert.ok(ok);
    assert.match(notes.join(' '), new RegExp(`${cluster.worker.name} is Ready again; it was NotReady for \\d+ s\\.`));
    assert.strictEqual(await unschedulable(), false, 'spec.unschedulable is false after the restore');
    assert.strictEqual(await cluster.readyStatus(), 'True');
    assert.deepStrictEqual(store.all(), [], 'the record is gone');
    await expectNodeRestored(cluster.worker, before);
  });

  it('uncordons at the next start a node whose extension host was killed mid-session, and leaves a live one alone', async () => {
    const storeFile = path.join(dir, 'crash.json');
    const script = path.resolve(__dirname, '..', 'support', 'cordonThenHang.js');
    const host = spawn(process.execPath, [script, cluster.kubeconfigPath, context.name, cluster.worker.name, 'worker', storeFile], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      const said = await new Promise<string>((resolve, reject) => {
        host.stdout.on('data', (c: Buffer) => resolve(c.toString().trim()));
        host.on('exit', (code) => reject(new Error(`the stand-in extension host exited with ${code} before cordoning`)));
      });
      assert.strictEqual(said, 'cordoned');
      assert.strictEqual(await unschedulable(), true);
      const store = fileCordonStore(storeFile);
      // While its extension host lives, the cordon belongs to that window: a start elsewhere leaves it.
      assert.deepStrictEqual(await undoLeftoverCordons(store, () => api, memoryLogger()), []);
      assert.strictEqual(await unschedulable(), true, 'a live window keeps its cordon');
      assert.strictEqual(recordOwnerAlive(store.all()[0]), true);
      host.kill('SIGKILL');
      await new Promise((resolve) => host.once('exit', resolve));
      assert.strictEqual(recordOwnerAlive(store.all()[0]), false);
      assert.deepStrictEqual(await undoLeftoverCordons(store, () => api, memoryLogger()), []);
      assert.strictEqual(await unschedulable(), false, 'the next start uncordoned it');
      assert.deepStrictEqual(store.all(), []);
    } finally {
      host.kill('SIGKILL');
    }
  });

  it('says what is wrong with a bad kubeconfig: wrong server, expired certificate, garbled certificate', async () => {
    const bad = writeBadKubeconfigs(cluster, path.join(dir, 'bad'));
    const read = (file: string) => readClusterSnapshot(KubeApi.forContext(loadContexts([file]).contexts[0]), { timeoutMs: 10_000 });
    const wrong = await expectUserError(read(bad.wrongServer), ErrorCode.ClusterUnreachable);
    assert.match(wrong.message, /cannot be reached: ECONNREFUSED/);
    const expired = await expectUserError(read(bad.expiredCertificate), ErrorCode.ClusterCredentialsExpired);
    assert.match(expired.message, /expired on 2020-01-02T00:00:00\.000Z/);
    const garbled = await expectUserError(read(bad.garbledCertificate), ErrorCode.ClusterCredentialsInvalid);
    assert.match(garbled.message, /not a PEM certificate/);
  });
});
