// Loopback helpers: pick a free port on 127.0.0.1 and wait for an HTTP endpoint to answer.
import { createServer } from 'node:net';
import { get } from 'node:http';

function tryListen(port) {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(undefined));
    server.listen({ host: '127.0.0.1', port, exclusive: true }, () => {
      const { port: bound } = server.address();
      server.close(() => resolve(bound));
    });
  });
}

/** The first free port in [preferred, preferred + span), or any free port when preferred is 0. */
export async function freePort(preferred = 0, span = 20) {
  if (preferred) {
    for (let port = preferred; port < preferred + span; port++) {
      if (await tryListen(port)) return port;
    }
  }
  const port = await tryListen(0);
  if (!port) throw new Error('no free port on 127.0.0.1');
  return port;
}

/** GET url → { status, body }; rejects on connection errors. */
export function httpGet(url, timeoutMs = 5000) {
  return new Promise((resolve, reject) => {
    const req = get(url, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode, body }));
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
  });
}

/**
 * Polls url until it answers `status`. `stillAlive()` lets the caller end the wait as soon as the
 * process that should answer has died, instead of waiting out the timeout.
 */
export async function waitForHttp(url, { timeoutMs = 60000, status = 200, stillAlive = () => true, what = url } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (!stillAlive()) throw new Error(`${what} exited before ${url} answered`);
    try {
      const res = await httpGet(url, 2000);
      if (res.status === status) return res;
      last = `HTTP ${res.status}`;
    } catch (e) {
      last = e.code ?? e.message;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what}: ${url} did not answer within ${Math.round(timeoutMs / 1000)} s (last: ${last})`);
}
