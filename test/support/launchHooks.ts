// Launch hooks for plain-Node tests: local builds run with child_process (VS Code runs them as a
// task), version-skew questions are answered as told and recorded.
import * as assert from 'assert';
import { spawn } from 'child_process';
import { cpSync } from 'fs';
import * as path from 'path';
import { ErrorCode, UserError } from '../../src/common/errors';
import type { LaunchHooks } from '../../src/debug/kubeletLauncher';
import { KubeletLaunchConfig, validateLaunchConfig, withDefaults } from '../../src/debug/launchConfig';
import type { NodeConnection } from '../../src/ssh/nodeConnection';
import type { TransportSetting } from '../../src/ssh/transportChoice';
import type { TestNode } from '../node/testNode';
import { connect, memoryLogger } from './nodeClient';
import { removeTempDir, tempDir } from './tempDirs';

export interface TestHooks extends LaunchHooks {
  steps: string[];
  skewQuestions: string[];
  buildLog: string[];
  abort: AbortController;
}

export function testHooks(opts: { acceptSkew?: boolean; graceSeconds?: number } = {}): TestHooks {
  const abort = new AbortController();
  const steps: string[] = [];
  const skewQuestions: string[] = [];
  const buildLog: string[] = [];
  return {
    abort,
    steps,
    skewQuestions,
    buildLog,
    log: memoryLogger(),
    signal: abort.signal,
    graceSeconds: opts.graceSeconds ?? 20,
    progress: (s) => steps.push(s),
    uploadProgress: () => undefined,
    buildOutput: (c) => buildLog.push(c),
    confirmVersionSkew: async (m) => {
      skewQuestions.push(m);
      return opts.acceptSkew ?? false;
    },
    runLocalBuild: (command, cwd) =>
      new Promise<void>((resolve, reject) => {
        const child = spawn('/bin/sh', ['-c', command], { cwd, env: { ...process.env, GOFLAGS: '-buildvcs=false', GOPROXY: 'off' } });
        child.stdout.on('data', (c: Buffer) => buildLog.push(c.toString()));
        child.stderr.on('data', (c: Buffer) => buildLog.push(c.toString()));
        child.on('close', (code) =>
          code === 0 ? resolve() : reject(new UserError(ErrorCode.BuildFailed, `build failed (${code}): ${buildLog.join('').slice(-500)}`)),
        );
      }),
  };
}

const FIXTURE = path.resolve(__dirname, '..', '..', '..', 'test', 'fixtures', 'kubelet-src');

export function launchConfig(raw: Record<string, unknown>): KubeletLaunchConfig {
  const { config, problems } = validateLaunchConfig(withDefaults(raw));
  assert.deepStrictEqual(problems, []);
  return config!;
}

/** A private copy of the sample kubelet, as a developer's workspace. */
export function workspaceCopy(): string {
  const dir = tempDir('ws');
  cpSync(FIXTURE, dir, { recursive: true, filter: (src) => !src.includes('_output') });
  return dir;
}

/** Mocha hooks for a debug suite: a root connection to the node and a workspace copy, both cleaned up. */
export function useConnectionAndWorkspace(
  node: () => TestNode,
  transport?: TransportSetting,
): { conn(): NodeConnection; workspace(): string } {
  let conn: NodeConnection | undefined;
  let workspace: string | undefined;
  before(() => {
    conn = connect(node(), 'root', undefined, transport);
    workspace = workspaceCopy();
  });
  after(() => {
    conn?.disconnect();
    if (workspace) {
      removeTempDir(workspace);
    }
  });
  return { conn: () => conn!, workspace: () => workspace! };
}
