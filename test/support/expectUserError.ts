// Awaits a promise that must fail with a UserError of the given code, and returns that error.
import * as assert from 'assert';
import { ErrorCode, UserError } from '../../src/common/errors';

export async function expectUserError(p: Promise<unknown>, code: ErrorCode): Promise<UserError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof UserError, `expected a UserError ${code}, got ${(err as Error).stack}`);
    assert.strictEqual(err.code, code, err.message);
    return err;
  }
  assert.fail(`expected ${code}, but it succeeded`);
}
