// Kubeconfig files for tests of how the cluster part reports bad ones, made with openssl on this
// machine: a client certificate that expired in 2020, one that is garbled, a server where nothing
// listens, and an exec credential plugin that fails. None of them needs an API server to fail.
import { execFileSync } from 'child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import * as net from 'net';
import * as path from 'path';

/** A port on 127.0.0.1 where nothing listens (it was free a moment ago): connecting is refused. */
export async function closedLoopbackPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * A client certificate and key, valid only from `start` to `end` (openssl ca's YYYYMMDDHHMMSSZ):
 * self-signed, or signed by `signer` (a CA's certificate and key files, such as the test cluster's).
 */
export function clientCertificate(
  dir: string,
  start: string,
  end: string,
  options: { subject?: string; signer?: { certPath: string; keyPath: string } } = {},
): { cert: string; key: string } {
  const work = mkdtempSync(path.join(dir, '.ca-'));
  try {
    const file = (name: string) => path.join(work, name);
    writeFileSync(file('index.txt'), '');
    writeFileSync(file('serial'), '1000\n');
    writeFileSync(
      file('ca.cnf'),
      [
        '[ca]',
        'default_ca = krd',
        '[krd]',
        `database = ${file('index.txt')}`,
        `serial = ${file('serial')}`,
        `new_certs_dir = ${work}`,
        'default_md = sha256',
        'policy = any',
        'unique_subject = no',
        'copy_extensions = none',
        'x509_extensions = client',
        '[any]',
        'organizationName = optional',
        'commonName = supplied',
        '[client]',
        'keyUsage = critical, digitalSignature, keyEncipherment',
        'extendedKeyUsage = clientAuth',
        '',
      ].join('\n'),
    );
    const run = (args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'], timeout: 30_000 });
    run([
      'req',
      '-new',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      file('k.pem'),
      '-subj',
      options.subject ?? '/CN=krd-test',
      '-out',
      file('r.csr'),
    ]);
    run([
      'ca',
      '-batch',
      ...(options.signer
        ? ['-cert', options.signer.certPath, '-keyfile', options.signer.keyPath]
        : ['-selfsign', '-keyfile', file('k.pem')]),
      '-config',
      file('ca.cnf'),
      '-startdate',
      start,
      '-enddate',
      end,
      '-notext',
      '-in',
      file('r.csr'),
      '-out',
      file('c.pem'),
    ]);
    return { cert: readFileSync(file('c.pem'), 'utf8'), key: readFileSync(file('k.pem'), 'utf8') };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** One kubeconfig file with one context named `context`, whose user is `user` (as YAML-compatible JSON). */
export function writeKubeconfig(file: string, context: string, server: string, user: Record<string, unknown>): string {
  mkdirSync(path.dirname(file), { recursive: true });
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: `${context}-cluster`, cluster: { server, 'insecure-skip-tls-verify': true } }],
    users: [{ name: `${context}-user`, user }],
    contexts: [{ name: context, context: { cluster: `${context}-cluster`, user: `${context}-user` } }],
    'current-context': context,
  };
  writeFileSync(file, JSON.stringify(config, null, 2), { mode: 0o600 });
  return file;
}

export interface BadKubeconfigSet {
  wrongServer: string;
  expiredCertificate: string;
  garbledCertificate: string;
  failingExecPlugin: string;
  notYaml: string;
}

/** Writes one kubeconfig per way of being bad into `dir`; contexts are named bad-wrong-server and so on. */
export async function writeBadKubeconfigSet(dir: string): Promise<BadKubeconfigSet> {
  const valid = clientCertificate(dir, '20200101000000Z', '20991231000000Z');
  const expired = clientCertificate(dir, '20200101000000Z', '20200102000000Z');
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  const refused = `https://127.0.0.1:${await closedLoopbackPort()}`;
  const certUser = (c: { cert: string; key: string }) => ({ 'client-certificate-data': b64(c.cert), 'client-key-data': b64(c.key) });
  const garbledPem = valid.cert.split('\n');
  garbledPem[3] = 'garbled!'.repeat(8);
  const notYaml = path.join(dir, 'not-yaml.conf');
  writeFileSync(notYaml, 'apiVersion: v1\nclusters: [ {\n');
  return {
    wrongServer: writeKubeconfig(path.join(dir, 'wrong-server.conf'), 'bad-wrong-server', refused, certUser(valid)),
    expiredCertificate: writeKubeconfig(path.join(dir, 'expired.conf'), 'bad-expired-certificate', refused, certUser(expired)),
    garbledCertificate: writeKubeconfig(path.join(dir, 'garbled.conf'), 'bad-garbled-certificate', refused, {
      'client-certificate-data': b64(garbledPem.join('\n')),
      'client-key-data': b64(valid.key),
    }),
    failingExecPlugin: writeKubeconfig(path.join(dir, 'exec.conf'), 'bad-exec-plugin', refused, {
      exec: {
        apiVersion: 'client.authentication.k8s.io/v1beta1',
        command: '/bin/sh',
        args: ['-c', 'echo "error: you must log in first (token expired)" >&2; exit 3'],
      },
    }),
    notYaml,
  };
}
