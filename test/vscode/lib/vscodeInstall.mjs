// Locates the cached VS Code server install, running install-vscode.sh (which installs it when
// missing and returns at once otherwise). The shell script is the one place that knows the layout.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const script = join(dirname(dirname(fileURLToPath(import.meta.url))), 'install-vscode.sh');

/**
 * @returns {Promise<{dir:string,node24:string,codeServerPkg:string,codeServerEntry:string,serverMain:string,version:string}>}
 */
export function ensureVSCode({ timeoutMs = 900_000, quiet = true } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [script, ...(quiet ? ['--quiet'] : [])], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    const timer = setTimeout(() => {
      child.kill('SIGTERM');
      reject(new Error(`install-vscode.sh did not finish within ${timeoutMs / 1000} s`));
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`install-vscode.sh failed with exit code ${code}`));
      const vars = Object.fromEntries(
        out
          .split('\n')
          .filter((l) => l.includes('='))
          .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
      );
      resolve({
        dir: vars.KRD_VSCODE_DIR,
        node24: vars.KRD_NODE24,
        codeServerPkg: vars.KRD_CODE_SERVER_PKG,
        codeServerEntry: vars.KRD_CODE_SERVER_ENTRY,
        serverMain: vars.KRD_SERVER_MAIN,
        version: vars.KRD_VSCODE_VERSION,
      });
    });
  });
}
