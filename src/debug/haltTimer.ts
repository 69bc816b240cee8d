// Node health while the kubelet is halted: the status bar counts the seconds, and before the node's
// lease grace period runs out (the node turns NotReady) a warning offers Continue. Each session has
// its own item and its own Continue, so sessions on several nodes never act on each other. When the
// node belongs to a known cluster, the item shows what the API says (Ready condition, lease age)
// instead of the guess.
import * as vscode from 'vscode';
import { describeNodeHealth, NodeHealth } from '../cluster/nodeHealth';

/** The cluster's view of the node, read every few seconds while halted. */
export interface NodeHealthProbe {
  read(): Promise<NodeHealth>;
  /** Called when the Ready status changes, so the Nodes view can show it. */
  onReadyChange?(): void;
}

const HEALTH_POLL_MS = 2000;

/** The node lease's grace period: 40 s, 50 s from Kubernetes 1.32. */
export function nodeLeaseGraceSeconds(kubeMinor: number | undefined): number {
  return kubeMinor !== undefined && kubeMinor >= 32 ? 50 : 40;
}

const WARN_BEFORE_SECONDS = 10;

export class HaltTimer implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private timer?: NodeJS.Timeout;
  private haltedAt = 0;
  private warned = false;
  private disposed = false;
  private health?: NodeHealth;
  private healthError?: string;
  private healthTimer?: NodeJS.Timeout;

  constructor(
    private readonly session: vscode.DebugSession,
    private readonly host: string,
    private readonly graceSeconds: number,
    private readonly probe?: NodeHealthProbe,
  ) {
    // The id makes the item this session's own: with one shared id, two sessions overwrote each
    // other's count and the entry vanished when either ended.
    this.item = vscode.window.createStatusBarItem(`kubelet.halted.${session.id}`, vscode.StatusBarAlignment.Left, 100);
    this.item.name = `Kubelet halted on ${host}`;
  }

  set(halted: boolean): void {
    if (!halted) {
      this.stop();
      return;
    }
    if (this.timer || this.disposed) {
      return;
    }
    this.haltedAt = Date.now();
    this.warned = false;
    this.tick();
    this.timer = setInterval(() => this.tick(), 1000);
    this.item.show();
    if (this.probe) {
      void this.poll();
    }
  }

  /** One read at a time, the next one HEALTH_POLL_MS after the last answer: a slow API never piles up requests. */
  private async poll(): Promise<void> {
    if (!this.probe || !this.timer || this.disposed) {
      return;
    }
    const before = this.health?.ready.status;
    try {
      this.health = await this.probe.read();
      this.healthError = undefined;
    } catch (err) {
      this.healthError = (err as Error).message;
    }
    if (this.health && before !== undefined && before !== this.health.ready.status) {
      this.probe.onReadyChange?.();
    }
    if (this.timer && !this.disposed) {
      this.tick();
      this.healthTimer = setTimeout(() => void this.poll(), HEALTH_POLL_MS);
    }
  }

  private tick(): void {
    const seconds = Math.floor((Date.now() - this.haltedAt) / 1000);
    const notReady = this.health !== undefined && this.health.ready.status !== 'True';
    const late = notReady || seconds >= this.graceSeconds - WARN_BEFORE_SECONDS;
    const real = this.health ? ` · ${describeNodeHealth(this.health)}` : '';
    this.item.text = `$(debug-pause) kubelet on ${this.host} halted ${seconds} s${real}`;
    this.item.tooltip = this.health
      ? `From the API server: the node is ${describeNodeHealth(this.health)}. The controller-manager marks it NotReady once its lease is older than its grace period (about ${this.graceSeconds} s by default).${this.healthError ? `\nThe last read failed: ${this.healthError}` : ''}`
      : `The node turns NotReady when the kubelet misses its lease for about ${this.graceSeconds} s.${this.healthError ? `\nThe cluster could not be read: ${this.healthError}` : ''}`;
    this.item.backgroundColor = late ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
    if (late && !this.warned) {
      this.warned = true;
      void vscode.window
        .showWarningMessage(
          notReady
            ? `The kubelet on ${this.host} has been halted for ${seconds} s; the node is ${describeNodeHealth(this.health!)}.`
            : `The kubelet on ${this.host} has been halted for ${seconds} s; the node turns NotReady after about ${this.graceSeconds} s.`,
          'Continue',
        )
        .then((choice) => {
          if (choice === 'Continue') {
            void this.continueThisSession();
          }
        });
    }
  }

  /**
   * Sends `continue` to this session. workbench.action.debug.continue would continue the session
   * that has focus, which can be another node's.
   */
  private async continueThisSession(): Promise<void> {
    if (this.disposed || !this.timer) {
      return; // Already running again, or the session is over.
    }
    try {
      const threads = (await this.session.customRequest('threads')) as { threads?: { id: number }[] } | undefined;
      await this.session.customRequest('continue', { threadId: threads?.threads?.[0]?.id ?? 1 });
    } catch (err) {
      void vscode.window.showErrorMessage(`Could not continue the kubelet on ${this.host}: ${(err as Error).message}`);
    }
  }

  private stop(): void {
    if (this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
    clearTimeout(this.healthTimer);
    this.healthTimer = undefined;
    this.item.hide();
  }

  dispose(): void {
    this.disposed = true;
    this.stop();
    this.item.dispose();
  }
}
