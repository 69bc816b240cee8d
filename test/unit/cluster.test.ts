// The cluster part's pure pieces: node summaries, SSH target matching, the API server skew policy,
// kubeconfig files and contexts, the client certificate checks (real certificates made by openssl),
// the API's error messages, and the NotReady clock.
import * as assert from 'assert';
import { execFileSync } from 'child_process';
import { readFileSync, writeFileSync } from 'fs';
import * as path from 'path';
import { countPodsByNode, NodeObject, nodeRoles, summarizeNode } from '../../src/cluster/clusterNodes';
import { describeClusterRestore } from '../../src/cluster/clusterSession';
import { checkClientCertificate, classifyStatus, classifyTransportError } from '../../src/cluster/kubeApi';
import { kubeConfigFor, kubeconfigFiles, loadContexts } from '../../src/cluster/kubeconfigs';
import { describeNodeHealth, NotReadyTracker } from '../../src/cluster/nodeHealth';
import { matchSshTarget } from '../../src/cluster/sshTargets';
import { ErrorCode, UserError } from '../../src/common/errors';
import { checkApiServerSkew, parseKubernetesVersion } from '../../src/kube/versionSkew';
import { removeTempDir, tempDir } from '../support/tempDirs';

const worker: NodeObject = {
  metadata: {
    name: 'worker-1',
    labels: { 'node-role.kubernetes.io/worker': '', 'node-role.kubernetes.io/gpu': 'true', 'kubernetes.io/hostname': 'worker-1' },
    annotations: { 'kubelet-remote-debug/cordoned': JSON.stringify({ by: 'me@laptop (VS Code, pid 1)', since: '2026-12-02T00:00:00Z' }) },
  },
  spec: {
    unschedulable: true,
    taints: [
      { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' },
      { key: 'gpu', value: 'a100', effect: 'NoExecute' },
    ],
  },
  status: {
    conditions: [
      { type: 'MemoryPressure', status: 'False' },
      { type: 'Ready', status: 'False', lastTransitionTime: '2026-12-02T01:00:00Z', reason: 'NodeStatusUnknown' },
    ],
    addresses: [
      { type: 'InternalIP', address: '10.0.0.7' },
      { type: 'ExternalIP', address: '203.0.113.7' },
      { type: 'Hostname', address: 'worker-1.example' },
    ],
    nodeInfo: { kubeletVersion: 'v1.20.2' },
  },
};

describe('cluster: nodes', () => {
  it('summarises a node: Ready condition, roles, version, addresses, taints, pods, our cordon', () => {
    const n = summarizeNode('prod', worker, 3);
    assert.strictEqual(n.name, 'worker-1');
    assert.strictEqual(n.ready.status, 'False');
    assert.strictEqual(n.ready.reason, 'NodeStatusUnknown');
    assert.strictEqual(n.ready.since?.toISOString(), '2026-12-02T01:00:00.000Z');
    assert.deepStrictEqual(n.roles, ['gpu', 'worker']);
    assert.strictEqual(n.kubeletVersion, 'v1.20.2');
    assert.deepStrictEqual([n.internalIPs, n.externalIPs, n.hostnames], [['10.0.0.7'], ['203.0.113.7'], ['worker-1.example']]);
    assert.deepStrictEqual(n.taints, ['node.kubernetes.io/unschedulable:NoSchedule', 'gpu=a100:NoExecute']);
    assert.strictEqual(n.podCount, 3);
    assert.strictEqual(n.unschedulable, true);
    assert.strictEqual(n.cordonedByUs?.by, 'me@laptop (VS Code, pid 1)');
    assert.strictEqual(summarizeNode('prod', { metadata: { name: 'x' } }, 0).ready.status, 'Unknown');
  });

  it('counts only pods that have not finished, per node', () => {
    const counts = countPodsByNode([
      { spec: { nodeName: 'a' }, status: { phase: 'Running' } },
      { spec: { nodeName: 'a' }, status: { phase: 'Pending' } },
      { spec: { nodeName: 'a' }, status: { phase: 'Succeeded' } },
      { spec: { nodeName: 'b' }, status: { phase: 'Failed' } },
      { spec: {}, status: { phase: 'Pending' } },
    ]);
    assert.deepStrictEqual([...counts], [['a', 2]]);
  });

  it('reads roles from both label styles', () => {
    assert.deepStrictEqual(nodeRoles({ 'node-role.kubernetes.io/control-plane': '', 'kubernetes.io/role': 'master' }), [
      'control-plane',
      'master',
    ]);
    assert.deepStrictEqual(nodeRoles({}), []);
  });
});

describe('cluster: SSH targets', () => {
  const node = summarizeNode('prod', worker, 0);

  it('takes a Host named like the node, else one whose HostName is an address', () => {
    assert.deepStrictEqual(
      matchSshTarget(
        node,
        [
          { alias: 'other', hostName: '10.9.9.9' },
          { alias: 'WORKER-1', hostName: 'x' },
        ],
        undefined,
      ),
      {
        spec: 'WORKER-1',
        via: 'sshConfig',
      },
    );
    assert.deepStrictEqual(matchSshTarget(node, [{ alias: 'w1', hostName: '203.0.113.7' }], 'root@${InternalIP}'), {
      spec: 'w1',
      via: 'sshConfig',
    });
  });

  it('falls back to the template, and says why when there is nothing', () => {
    assert.deepStrictEqual(matchSshTarget(node, [], 'root@${InternalIP}:2222'), { spec: 'root@10.0.0.7:2222', via: 'template' });
    assert.deepStrictEqual(matchSshTarget(node, [], 'admin@${NodeName}'), { spec: 'admin@worker-1', via: 'template' });
    const none = matchSshTarget(node, [{ alias: 'x', hostName: 'y' }], '');
    assert.strictEqual(none.spec, undefined);
    assert.match(
      none.reason ?? '',
      /no Host in your SSH config is named worker-1.*10\.0\.0\.7, 203\.0\.113\.7.*kubelet\.cluster\.sshTarget is not set/,
    );
    const bad = matchSshTarget({ ...node, externalIPs: [] }, [], 'root@${ExternalIP}');
    assert.match(bad.reason ?? '', /needs \$\{ExternalIP\}, which worker-1 does not have/);
    const unknown = matchSshTarget(node, [], 'root@${Address}');
    assert.match(unknown.reason ?? '', /known: \$\{NodeName\}/);
  });
});

describe('cluster: version skew against the API server', () => {
  const v = (s: string) => parseKubernetesVersion(s);
  it('follows the kubelet skew policy: never newer than the API server, at most two minors older (three from 1.28)', () => {
    assert.strictEqual(checkApiServerSkew(v('v1.20.2'), v('v1.20.5')), undefined);
    assert.strictEqual(checkApiServerSkew(v('v1.20.2'), v('v1.18.0')), undefined);
    assert.match(checkApiServerSkew(v('v1.20.2'), v('v1.21.0')) ?? '', /newer than the cluster's API server v1\.20\.2/);
    assert.match(checkApiServerSkew(v('v1.20.2'), v('v1.17.9')) ?? '', /3 minor versions older .* at most 2/);
    assert.strictEqual(checkApiServerSkew(v('v1.30.0'), v('v1.27.1')), undefined);
    assert.match(checkApiServerSkew(v('v1.30.0'), v('v1.26.1')) ?? '', /at most 3/);
    assert.strictEqual(checkApiServerSkew(undefined, v('v1.20.0')), undefined);
  });
});

describe('cluster: kubeconfigs and credentials', () => {
  let dir: string;
  let cert: string;
  let key: string;
  before(() => {
    dir = tempDir('kubeconfig');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        path.join(dir, 'k.pem'),
        '-out',
        path.join(dir, 'c.pem'),
        '-days',
        '2',
        '-subj',
        '/CN=tester/O=system:masters',
      ],
      { stdio: 'ignore' },
    );
    cert = readFileSync(path.join(dir, 'c.pem')).toString('base64');
    key = readFileSync(path.join(dir, 'k.pem')).toString('base64');
  });
  after(() => removeTempDir(dir));

  const kubeconfig = (contexts: string[], user: Record<string, unknown>) =>
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '- name: c',
      '  cluster: { server: "https://127.0.0.1:6443" }',
      'users:',
      '- name: u',
      `  user: ${JSON.stringify(user)}`,
      'contexts:',
      ...contexts.map((c) => `- name: ${c}\n  context: { cluster: c, user: u }`),
      `current-context: ${contexts[0]}`,
      '',
    ].join('\n');

  it('lists KUBECONFIG files then ~/.kube/config, each once', () => {
    assert.deepStrictEqual(kubeconfigFiles({ KUBECONFIG: `/a/one${path.delimiter}${path.delimiter}/b/two` }, '/home/me'), [
      '/a/one',
      '/b/two',
      '/home/me/.kube/config',
    ]);
    assert.deepStrictEqual(kubeconfigFiles({ KUBECONFIG: '/home/me/.kube/config' }, '/home/me'), ['/home/me/.kube/config']);
  });

  it('reads every context of every file; the first file wins a name; a broken file is a problem, not a crash', () => {
    writeFileSync(path.join(dir, 'one'), kubeconfig(['prod', 'dev'], { 'client-certificate-data': cert, 'client-key-data': key }));
    writeFileSync(path.join(dir, 'two'), kubeconfig(['dev', 'lab'], { token: 't' }));
    writeFileSync(path.join(dir, 'bad'), 'apiVersion: v1\nclusters: [ {\n');
    const { contexts, problems } = loadContexts([
      path.join(dir, 'one'),
      path.join(dir, 'missing'),
      path.join(dir, 'bad'),
      path.join(dir, 'two'),
    ]);
    assert.deepStrictEqual(
      contexts.map((c) => `${c.name}@${path.basename(c.file)} ${c.server}`),
      ['prod@one https://127.0.0.1:6443', 'dev@one https://127.0.0.1:6443', 'lab@two https://127.0.0.1:6443'],
    );
    assert.strictEqual(problems.length, 1);
    assert.strictEqual(problems[0].error.code, ErrorCode.KubeconfigInvalid);
    assert.match(problems[0].error.message, /bad cannot be read: .*Fix the file/);
  });

  it('finds an expired or garbled client certificate before any request', () => {
    writeFileSync(path.join(dir, 'ok'), kubeconfig(['ok'], { 'client-certificate-data': cert, 'client-key-data': key }));
    const ok = loadContexts([path.join(dir, 'ok')]).contexts[0];
    checkClientCertificate(kubeConfigFor(ok), ok);
    const later = new Date(Date.now() + 3 * 86_400_000);
    assert.throws(
      () => checkClientCertificate(kubeConfigFor(ok), ok, later),
      (e: UserError) =>
        e.code === ErrorCode.ClusterCredentialsExpired && /client certificate of user "u" in context "ok" expired on/.test(e.message),
    );
    // The PEM armour stays; the third line of the body becomes something that is not base64 DER.
    const pemLines = Buffer.from(cert, 'base64').toString().split('\n');
    pemLines[3] = 'garbled!'.repeat(8);
    const garbled = Buffer.from(pemLines.join('\n')).toString('base64');
    assert.notStrictEqual(garbled, cert);
    writeFileSync(path.join(dir, 'garbled'), kubeconfig(['garbled'], { 'client-certificate-data': garbled, 'client-key-data': key }));
    const g = loadContexts([path.join(dir, 'garbled')]).contexts[0];
    assert.throws(
      () => checkClientCertificate(kubeConfigFor(g), g),
      (e: UserError) =>
        e.code === ErrorCode.ClusterCredentialsInvalid && /client certificate is not a PEM certificate \(garbled/.test(e.message),
    );
  });

  it('turns transport errors and HTTP answers into messages that say what to do', () => {
    const ctx = { name: 'prod', file: '/k', cluster: 'c', user: 'u', server: 'https://127.0.0.1:1' };
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    assert.strictEqual(classifyTransportError(refused, ctx).code, ErrorCode.ClusterUnreachable);
    assert.match(
      classifyTransportError(refused, ctx).message,
      /context "prod" \(https:\/\/127\.0\.0\.1:1\) cannot be reached: ECONNREFUSED.*server address in \/k/,
    );
    const untrusted = Object.assign(new Error('self signed'), { code: 'SELF_SIGNED_CERT_IN_CHAIN' });
    assert.strictEqual(classifyTransportError(untrusted, ctx).code, ErrorCode.ClusterServerUntrusted);
    assert.strictEqual(
      classifyStatus(401, '{"kind":"Status","message":"Unauthorized"}', ctx, 'GET /api/v1/nodes').code,
      ErrorCode.ClusterCredentialsRejected,
    );
    const anon = classifyStatus(
      403,
      JSON.stringify({ message: 'nodes is forbidden: User "system:anonymous" cannot list resource "nodes"' }),
      ctx,
      'GET /api/v1/nodes',
    );
    assert.strictEqual(anon.code, ErrorCode.ClusterCredentialsRejected);
    const rbac = classifyStatus(
      403,
      JSON.stringify({ message: 'nodes "w" is forbidden: User "bob" cannot patch' }),
      ctx,
      'PATCH /api/v1/nodes/w',
    );
    assert.strictEqual(rbac.code, ErrorCode.ClusterRequestFailed);
    assert.match(rbac.message, /PATCH \/api\/v1\/nodes\/w on context "prod" failed \(HTTP 403\): .*needs that permission \(RBAC\)/);
  });
});

describe('cluster: the NotReady clock', () => {
  it('measures NotReady from the transition times the controller recorded', () => {
    const t = new NotReadyTracker();
    t.observe({ status: 'True', since: new Date('2026-12-02T00:00:00Z') });
    assert.strictEqual(t.notReadySeconds, undefined);
    t.observe({ status: 'Unknown', since: new Date('2026-12-02T00:01:00Z') });
    t.observe({ status: 'Unknown', since: new Date('2026-12-02T00:01:00Z') });
    assert.strictEqual(t.notReadySeconds, undefined);
    t.observe({ status: 'True', since: new Date('2026-12-02T00:01:42Z') });
    assert.strictEqual(t.notReadySeconds, 42);
  });

  it('says NotReady since N s and the lease age, and reports the restore in words', () => {
    const now = Date.parse('2026-12-02T00:02:00Z');
    const text = describeNodeHealth(
      { ready: { status: 'Unknown', since: new Date(now - 12_000) }, leaseAgeSeconds: 50, readAt: new Date(now - 2000) },
      now,
    );
    assert.strictEqual(text, 'Ready unknown since 12 s · lease 52 s old');
    assert.strictEqual(
      describeNodeHealth({ ready: { status: 'False', since: new Date(now - 5000) }, readAt: new Date(now) }, now),
      'NotReady since 5 s',
    );
    assert.deepStrictEqual(
      describeClusterRestore('w', { uncordon: 'uncordoned', ready: { ready: true, notReadySeconds: 23.4, waitedSeconds: 3 } }, 120),
      {
        notes: ['w is uncordoned.', 'w is Ready again; it was NotReady for 23 s.'],
        ok: true,
      },
    );
    const late = describeClusterRestore(
      'w',
      { ready: { ready: false, waitedSeconds: 120, last: { status: 'Unknown', reason: 'NodeStatusUnknown' } } },
      120,
    );
    assert.strictEqual(late.ok, false);
    assert.match(late.notes[0], /w was not Ready within 120 s of the restore \(Ready Unknown, NodeStatusUnknown\)/);
  });
});
