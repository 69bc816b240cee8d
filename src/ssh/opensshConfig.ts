// Asks the system's OpenSSH what it would use for a host (`ssh -G`), so Match blocks, tokens and
// Include resolve exactly as `ssh HOST` resolves them. The caller falls back to its own parser when
// there is no ssh binary.
import { execFile } from 'child_process';
import { promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { errors } from '../common/errors';

/** ssh -G's answer: lowercase keys, each with every value it printed, in order. */
export type SshDirectives = Map<string, string[]>;

export interface SshGRequest {
  sshBinary: string;
  /** The user config the extension reads; passed to ssh with -F. */
  userConfigFile: string;
  /** Read after the user config, as ssh does without -F (which would otherwise skip it); undefined to read the user's alone. */
  systemConfigFile: string | undefined;
  host: string;
  user?: string;
  port?: number;
  env: NodeJS.ProcessEnv;
}

/** Match exec commands run inside ssh -G; they must not hold a connection attempt forever. */
const SSH_G_TIMEOUT_MS = 15_000;

/** Resolves the host with ssh -G, or returns undefined when no ssh binary exists. */
export async function resolveWithSsh(request: SshGRequest): Promise<SshDirectives | undefined> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'krd-ssh-g-'));
  try {
    const wrapper = await writeConfigWrapper(dir, request.userConfigFile, request.systemConfigFile);
    const args = ['-G', '-F', wrapper];
    if (request.user !== undefined) {
      args.push('-l', request.user);
    }
    if (request.port !== undefined) {
      args.push('-p', String(request.port));
    }
    args.push('--', request.host);
    const result = await run(request.sshBinary, args, request.env);
    if (result === undefined) {
      return undefined;
    }
    if (result === 'timeout') {
      throw errors.sshConfigInvalid(
        request.host,
        request.userConfigFile,
        `ssh -G did not finish within ${SSH_G_TIMEOUT_MS / 1000} s (a Match exec command that hangs?)`,
      );
    }
    if (result.code !== 0) {
      throw errors.sshConfigInvalid(request.host, request.userConfigFile, result.stderr.split(wrapper).join(request.userConfigFile));
    }
    return parseSshG(result.stdout);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

/**
 * -F makes ssh skip the system config, so a private file includes both in ssh's own order.
 * Include'd files keep their own Host/Match state, and a missing file includes nothing.
 */
export async function writeConfigWrapper(dir: string, userConfigFile: string, systemConfigFile: string | undefined): Promise<string> {
  const wrapper = path.join(dir, 'config');
  const system = systemConfigFile === undefined ? '' : `Host *\nInclude ${quote(systemConfigFile)}\n`;
  await fs.writeFile(wrapper, `Include ${quote(userConfigFile)}\n${system}`, { mode: 0o600 });
  return wrapper;
}

export function parseSshG(stdout: string): SshDirectives {
  const directives: SshDirectives = new Map();
  for (const line of stdout.split('\n')) {
    const space = line.indexOf(' ');
    if (space > 0) {
      const key = line.slice(0, space).toLowerCase();
      directives.set(key, [...(directives.get(key) ?? []), line.slice(space + 1)]);
    }
  }
  return directives;
}

function quote(file: string): string {
  return `"${file.replace(/"/g, '')}"`;
}

function run(
  binary: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number; stdout: string; stderr: string } | 'timeout' | undefined> {
  return new Promise((resolve, reject) => {
    execFile(binary, args, { env, timeout: SSH_G_TIMEOUT_MS, maxBuffer: 1024 * 1024, encoding: 'utf8' }, (err, stdout, stderr) => {
      const e = err as (NodeJS.ErrnoException & { code?: string | number; killed?: boolean }) | null;
      if (e?.code === 'ENOENT') {
        resolve(undefined);
      } else if (e?.killed) {
        resolve('timeout');
      } else if (e && typeof e.code !== 'number') {
        reject(e);
      } else {
        resolve({ code: e ? Number(e.code) : 0, stdout, stderr });
      }
    });
  });
}
