// A list of things to dispose together. Anything added after the list itself was disposed is
// disposed at once, so a late-arriving resource (a connection that finished opening after its
// owner went away) cannot leak.

export interface Disposable {
  dispose(): unknown;
}

export class DisposableList implements Disposable {
  private items: Disposable[] = [];
  private disposed = false;

  get isDisposed(): boolean {
    return this.disposed;
  }

  add<T extends Disposable>(item: T): T {
    if (this.disposed) {
      void item.dispose();
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
      try {
        void item.dispose();
      } catch {
        // One failing dispose must not keep the rest alive.
      }
    }
  }
}
