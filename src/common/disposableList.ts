// A list of things to dispose together. Anything added after the list itself was disposed is
// disposed at once, so a late-arriving resource (a connection that finished opening after its
// owner went away) cannot leak. One failing dispose never keeps the others alive.

export interface Disposable {
  dispose(): unknown;
}

export class DisposableList implements Disposable {
  private items: Disposable[] = [];
  private disposed = false;

  /** `onError` hears about a dispose that threw or rejected; by default such errors are dropped. */
  constructor(private readonly onError: (err: unknown) => void = () => undefined) {}

  get isDisposed(): boolean {
    return this.disposed;
  }

  add<T extends Disposable>(item: T): T {
    if (this.disposed) {
      this.disposeOne(item);
    } else {
      this.items.push(item);
    }
    return item;
  }

  /** Disposes in reverse order of addition, so dependants go before what they depend on. */
  dispose(): void {
    if (this.disposed) {
      return;
    }
    this.disposed = true;
    const items = this.items.reverse();
    this.items = [];
    for (const item of items) {
      this.disposeOne(item);
    }
  }

  private disposeOne(item: Disposable): void {
    try {
      const result = item.dispose();
      if (result instanceof Promise) {
        result.catch((err: unknown) => this.report(err));
      }
    } catch (err) {
      this.report(err);
    }
  }

  private report(err: unknown): void {
    try {
      this.onError(err);
    } catch {
      // Reporting is best effort: shutting down matters more than hearing about it.
    }
  }
}
