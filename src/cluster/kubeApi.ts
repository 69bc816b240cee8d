// One context's Kubernetes API: the kubeconfig's credentials (applied by @kubernetes/client-node,
// which runs exec plugins and reads certificates and tokens) on small JSON requests, each with a time
// limit and an abort signal, and every failure turned into an error that says what to do.
import { createPrivateKey, X509Certificate } from 'crypto';
import { readFileSync } from 'fs';
import * as http from 'http';
import * as https from 'https';
import type { KubeConfig } from '@kubernetes/client-node';
import { errors, ErrorCode, UserError } from '../common/errors';
import { kubeConfigFor, KubeContextRef } from './kubeconfigs';

export interface RequestLimits {
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** Lists of a big cluster's pods run to megabytes; anything past this is not an answer we can use. */
const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;
const DEFAULT_TIMEOUT_MS = 15_000;

export class KubeApi {
  private constructor(
    readonly context: KubeContextRef,
    private readonly kc: KubeConfig,
  ) {}

  static forContext(ref: KubeContextRef): KubeApi {
    return new KubeApi(ref, kubeConfigFor(ref));
  }

  get(path: string, limits?: RequestLimits): Promise<unknown> {
    return this.request('GET', path, undefined, limits);
  }

  /** A JSON merge patch: `null` removes a field (an annotation), a value sets it. */
  mergePatch(path: string, body: unknown, limits?: RequestLimits): Promise<unknown> {
    return this.request('PATCH', path, body, limits);
  }

  async request(method: 'GET' | 'PATCH', path: string, body: unknown, limits: RequestLimits = {}): Promise<unknown> {
    const timeoutMs = limits.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const ctx = this.context;
    checkClientCertificate(this.kc, ctx);
    const abort = new AbortController();
    const onAbort = () => abort.abort();
    limits.signal?.addEventListener('abort', onAbort, { once: true });
    const timer = setTimeout(() => abort.abort(), timeoutMs);
    try {
      if (limits.signal?.aborted) {
        throw errors.cancelled();
      }
      const options: https.RequestOptions = { headers: {} };
      await untilAborted(this.applyCredentials(options), abort.signal, () =>
        limits.signal?.aborted ? errors.cancelled() : execOrTimeout(this.kc, ctx, timeoutMs),
      );
      const url = new URL(ctx.server.replace(/\/+$/, '') + path);
      const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
      const headers: http.OutgoingHttpHeaders = {
        ...(options.headers as http.OutgoingHttpHeaders),
        Accept: 'application/json',
        ...(payload ? { 'Content-Type': 'application/merge-patch+json', 'Content-Length': payload.length } : {}),
      };
      const { status, text } = await send(url, { ...options, method, headers, signal: abort.signal }, payload).catch((err: Error) => {
        throw limits.signal?.aborted
          ? errors.cancelled()
          : abort.signal.aborted
            ? clusterUnreachable(ctx, `no answer within ${Math.round(timeoutMs / 1000)} s`)
            : classifyTransportError(err, ctx);
      });
      if (status >= 400) {
        throw classifyStatus(status, text, ctx, `${method} ${path}`);
      }
      return text ? JSON.parse(text) : undefined;
    } finally {
      clearTimeout(timer);
      limits.signal?.removeEventListener('abort', onAbort);
    }
  }

  private async applyCredentials(options: https.RequestOptions): Promise<void> {
    try {
      await this.kc.applyToHTTPSOptions(options);
    } catch (err) {
      const user = this.kc.getCurrentUser();
      if (user?.exec) {
        throw execPluginFailed(this.context, user.exec.command as string, (err as Error).message);
      }
      throw new UserError(
        ErrorCode.ClusterCredentialsInvalid,
        `The credentials of user "${this.context.user}" in context "${this.context.name}" (${this.context.file}) cannot be used: ${(err as Error).message}. Fix that user's entry in the kubeconfig.`,
        ['retry'],
      );
    }
  }
}

function send(url: URL, options: https.RequestOptions, payload: Buffer | undefined): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const request = (url.protocol === 'http:' ? http : https).request(url, options, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_RESPONSE_BYTES) {
          res.destroy(new Error(`the answer is larger than ${MAX_RESPONSE_BYTES / 1024 / 1024} MB`));
          return;
        }
        chunks.push(c);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    request.on('error', reject);
    request.end(payload);
  });
}

/** Resolves with `work`, or rejects with `onAbort()` once `signal` fires (the work is left to finish on its own). */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal, onAbort: () => Error): Promise<T> {
  return new Promise((resolve, reject) => {
    const abort = () => reject(onAbort());
    if (signal.aborted) {
      abort();
      return;
    }
    signal.addEventListener('abort', abort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', abort));
  });
}

function execOrTimeout(kc: KubeConfig, ctx: KubeContextRef, timeoutMs: number): UserError {
  const exec = kc.getCurrentUser()?.exec;
  const seconds = Math.round(timeoutMs / 1000);
  return exec
    ? execPluginFailed(ctx, exec.command as string, `it did not finish within ${seconds} s`)
    : clusterUnreachable(ctx, `the credentials were not ready within ${seconds} s`);
}

/**
 * An expired or unreadable client certificate is found here, before the request: an API server that
 * allows anonymous requests would otherwise answer "forbidden for system:anonymous", which hides why.
 */
export function checkClientCertificate(kc: KubeConfig, ctx: KubeContextRef, now = new Date()): void {
  const user = kc.getCurrentUser();
  if (!user) {
    return;
  }
  const read = (file: string | undefined, data: string | undefined, what: string): Buffer | undefined => {
    try {
      if (file) {
        return readFileSync(file);
      }
      return data ? Buffer.from(data, 'base64') : undefined;
    } catch (err) {
      throw credentialsInvalid(
        ctx,
        `its ${what} ${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
      );
    }
  };
  const cert = read(user.certFile, user.certData, 'client certificate');
  const key = read(user.keyFile, user.keyData, 'client key');
  if (cert) {
    let parsed: X509Certificate;
    try {
      parsed = new X509Certificate(cert);
    } catch {
      throw credentialsInvalid(ctx, 'its client certificate is not a PEM certificate (garbled or truncated)');
    }
    const notAfter = new Date(parsed.validTo);
    if (notAfter.getTime() < now.getTime()) {
      throw new UserError(
        ErrorCode.ClusterCredentialsExpired,
        `The client certificate of user "${ctx.user}" in context "${ctx.name}" expired on ${notAfter.toISOString()}. Get a new kubeconfig from the cluster's admin (kubeadm: kubeadm kubeconfig user, or kubeadm certs renew admin.conf) and try again.`,
        ['retry'],
      );
    }
    if (new Date(parsed.validFrom).getTime() > now.getTime()) {
      throw credentialsInvalid(
        ctx,
        `its client certificate is not valid before ${new Date(parsed.validFrom).toISOString()} (check this machine's clock)`,
      );
    }
  }
  if (key) {
    try {
      createPrivateKey(key);
    } catch {
      throw credentialsInvalid(ctx, 'its client key is not a PEM private key (garbled or truncated)');
    }
  }
}

function credentialsInvalid(ctx: KubeContextRef, what: string): UserError {
  return new UserError(
    ErrorCode.ClusterCredentialsInvalid,
    `User "${ctx.user}" of context "${ctx.name}" (${ctx.file}) cannot be used: ${what}. Fix that user's entry in the kubeconfig, or get a new kubeconfig from the cluster's admin.`,
    ['retry'],
  );
}

export function clusterUnreachable(ctx: KubeContextRef, cause: string): UserError {
  return new UserError(
    ErrorCode.ClusterUnreachable,
    `The API server of context "${ctx.name}" (${ctx.server}) cannot be reached: ${cause}. Check that the cluster is up and that the server address in ${ctx.file} is right.`,
    ['retry'],
  );
}

function execPluginFailed(ctx: KubeContextRef, command: string, cause: string): UserError {
  return new UserError(
    ErrorCode.ClusterExecPluginFailed,
    `The credential plugin of context "${ctx.name}" (${command}) failed: ${cause.trim().split('\n')[0].slice(0, 300)}. Run it in a terminal (kubectl --context ${ctx.name} get nodes fails the same way), log in again if it asks, and retry.`,
    ['retry'],
  );
}

const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'ECONNRESET', 'EAI_AGAIN', 'EPIPE']);
const UNTRUSTED = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_HAS_EXPIRED',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_SIGNATURE_FAILURE',
]);

/** Errors before any HTTP answer: the network, the server's certificate, or our own certificate or key. */
export function classifyTransportError(err: Error, ctx: KubeContextRef): UserError {
  const code = (err as NodeJS.ErrnoException).code ?? '';
  if (UNREACHABLE.has(code)) {
    return clusterUnreachable(ctx, `${code} (${err.message})`);
  }
  if (UNTRUSTED.has(code)) {
    return new UserError(
      ErrorCode.ClusterServerUntrusted,
      `The API server of context "${ctx.name}" (${ctx.server}) presented a certificate that the kubeconfig's certificate-authority does not verify (${code}). The server address or the CA in ${ctx.file} is wrong, or someone is in between.`,
      ['retry'],
    );
  }
  if (code.startsWith('ERR_OSSL') || /PEM|key values mismatch|certificate/i.test(err.message)) {
    return credentialsInvalid(ctx, err.message);
  }
  return clusterUnreachable(ctx, err.message);
}

/** An HTTP error answer, with the API server's own Status message. */
export function classifyStatus(status: number, body: string, ctx: KubeContextRef, what: string): UserError {
  let message = body.trim().slice(0, 300);
  try {
    message = (JSON.parse(body) as { message?: string }).message ?? message;
  } catch {
    // Not a Status object: keep the text.
  }
  if (status === 401) {
    return new UserError(
      ErrorCode.ClusterCredentialsRejected,
      `The API server of context "${ctx.name}" rejected the credentials of user "${ctx.user}" (401 Unauthorized): they have expired or were revoked. Log in again or get a new kubeconfig, then retry.`,
      ['retry'],
    );
  }
  if (status === 403 && /system:anonymous/.test(message)) {
    return new UserError(
      ErrorCode.ClusterCredentialsRejected,
      `The API server of context "${ctx.name}" did not accept the credentials of user "${ctx.user}" and treats the request as anonymous (${message}). The certificate or token is not from this cluster, or has expired; get a new kubeconfig.`,
      ['retry'],
    );
  }
  return new UserError(
    ErrorCode.ClusterRequestFailed,
    `${what} on context "${ctx.name}" failed (HTTP ${status}): ${message}.${status === 403 ? ` User "${ctx.user}" needs that permission (RBAC).` : ''}`,
    ['retry'],
  );
}
