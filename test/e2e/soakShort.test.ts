// A short soak inside the e2e suite: bench/soak.mjs against the shared node with few trials (each fault
// kind, sessions in a row, hostile input), and one fault on a real Kubernetes v1.20.2 node it boots,
// asserting the same invariants (and, on the real node, unchanged pods) and leaving the nodes as they were.
import * as assert from 'assert';
import { spawn } from 'child_process';
import * as path from 'path';
import { sharedNode } from './hooks';

const ROOT = path.resolve(__dirname, '..', '..', '..');

function runSoak(args: string[], timeoutMs: number): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'bench', 'soak.mjs'), ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

describe('Soak (short): faults, sessions in a row, hostile input', function () {
  this.timeout(120_000);

  it('restores the node after every fault and session, leaks nothing, and runs no hostile input', async () => {
    const node = sharedNode();
    const { code, output } = await runSoak(
      [
        '--node-dir',
        node.stateDir,
        '--no-build',
        '--trials',
        '3',
        '--sessions',
        '5',
        '--hostile',
        '200',
        '--saves',
        '5',
        '--reboots',
        '0',
        '--real-trials',
        '0',
        '--grace',
        '5',
      ],
      110_000,
    );
    const result = /^(\d+) passed, (\d+) failed$/m.exec(output);
    assert.ok(result, `no result line from bench/soak.mjs (exit ${code}):\n${output}`);
    assert.strictEqual(result[2], '0', output);
    assert.strictEqual(code, 0, output);
  });

  it('restores the real kubelet, with every pod untouched, when VS Code dies while it is halted (the lease runs out)', async function () {
    this.timeout(300_000);
    const { code, output } = await runSoak(
      ['--real-only', '--no-build', '--real-trials', '1', '--faults', 'vscode', '--real-grace', '12'],
      290_000,
    );
    const result = /^(\d+) passed, (\d+) failed$/m.exec(output);
    assert.ok(result, `no result line from bench/soak.mjs (exit ${code}):\n${output}`);
    assert.match(output, /✓ real node: connection destroyed #1: the pods kept their containers and PIDs/);
    assert.match(output, /✓ real node: connection destroyed #1: restored in/);
    assert.strictEqual(result[2], '0', output);
    assert.strictEqual(code, 0, output);
  });
});
