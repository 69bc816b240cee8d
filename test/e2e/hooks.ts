// Mocha root hooks for the end-to-end suite: one real test node (systemd-nspawn, systemd as PID 1,
// sshd, Go and Delve) shared by all files, booted once and stopped at the end.
import { bootTestNode, TestNode } from '../node/testNode';

let node: TestNode | undefined;

export function sharedNode(): TestNode {
  if (!node) {
    throw new Error('The shared test node is not up; run the e2e suite with --require out/test/e2e/hooks.js.');
  }
  return node;
}

export const mochaHooks = {
  async beforeAll(this: Mocha.Context): Promise<void> {
    this.timeout(15 * 60 * 1000); // A first run builds the rootfs.
    node = await bootTestNode({ log: (line) => process.stdout.write(`    [node] ${line}\n`) });
  },
  async afterAll(this: Mocha.Context): Promise<void> {
    this.timeout(60 * 1000);
    await node?.stop();
    node = undefined;
  },
};
