// DisposableList keeps disposing when one item throws or rejects, and disposes late arrivals at once.
import * as assert from 'assert';
import { DisposableList } from '../../src/common/disposableList';

describe('DisposableList', () => {
  it('disposes everything, newest first, even when one dispose throws and another rejects', async () => {
    const errors: unknown[] = [];
    const list = new DisposableList((err) => errors.push(err));
    const order: string[] = [];
    list.add({ dispose: () => order.push('first') });
    list.add({
      dispose: () => {
        throw new Error('Channel has been closed');
      },
    });
    list.add({ dispose: () => Promise.reject(new Error('async failure')) });
    list.add({ dispose: () => order.push('last') });
    list.dispose();
    assert.deepStrictEqual(order, ['last', 'first']);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepStrictEqual(errors.map((e) => (e as Error).message).sort(), ['Channel has been closed', 'async failure']);
    assert.ok(list.isDisposed);
  });

  it('disposes an item added after the list was disposed, without throwing at the caller', async () => {
    const list = new DisposableList();
    list.dispose();
    let disposed = false;
    list.add({
      dispose: () => {
        disposed = true;
      },
    });
    assert.ok(disposed);
    assert.doesNotThrow(() =>
      list.add({
        dispose: () => {
          throw new Error('late and broken');
        },
      }),
    );
    let rejectionSeen = false;
    const onUnhandled = () => {
      rejectionSeen = true;
    };
    process.on('unhandledRejection', onUnhandled);
    try {
      list.add({ dispose: () => Promise.reject(new Error('late async failure')) });
      await new Promise((resolve) => setTimeout(resolve, 20));
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
    assert.strictEqual(rejectionSeen, false, 'a rejected dispose is handled, not left unhandled');
  });
});
