// Sits between VS Code and Delve's DAP server on the node. It turns our "launch" into Delve's
// remote "attach", and owns the end of the session: clear breakpoints, continue, disconnect without
// killing, then restore the node, whatever way the session ends.
import { ContinuedEvent, OutputEvent, Response, TerminatedEvent } from '@vscode/debugadapter';
import type { DebugProtocol } from '@vscode/debugprotocol';
import type { Duplex } from 'stream';
import type { Logger } from '../common/logger';
import { DapBridge } from './dapBridge';
import { delveAttachArguments } from './delveAttachArguments';
import { DelveLogSplitter } from './delveLogLines';
import { haltRefusal, keepLogpoints, withRefusals } from './haltFree';
import type { PathMapping } from './pathMapping';
import type { RestoreReport } from './kubeletLauncher';

export interface ProxyTarget {
  /** The systemd unit being debugged, for what the user reads ("Restoring demo.service…"). */
  unit: string;
  restore(): Promise<RestoreReport>;
}

export interface DapProxyOptions {
  stream: Duplex;
  target: ProxyTarget;
  substitutePath: readonly PathMapping[];
  stopOnEntry: boolean;
  log: Logger;
  toClient(message: DebugProtocol.ProtocolMessage): void;
  /** True while the debuggee is halted, for the node-health timer. */
  onHaltChange?(halted: boolean): void;
  /** After the node was restored (or restoring failed), once. */
  onFinished?(outcome: { restored: boolean; message: string }): void;
  /** The first stop, with the seconds from configurationDone (the kubelet running on) to it. */
  onFirstStop?(secondsAfterConfigurationDone: number): void;
}

// Our own requests to Delve use sequence numbers far above VS Code's, so replies can't be confused.
const OWN_SEQ_BASE = 1_000_000_000;

export class KubeletDapProxy {
  private readonly bridge: DapBridge;
  private ownSeq = OWN_SEQ_BASE;
  private readonly ownPending = new Map<number, (r: DebugProtocol.Response) => void>();
  private readonly sourcesWithBreakpoints = new Map<string, DebugProtocol.Source>();
  private hadFunctionBreakpoints = false;
  private ending?: Promise<void>;
  private finished = false;
  private threadId = 1;
  private configurationDoneAt?: number;
  private stoppedOnce = false;
  /** Client `continue` requests awaiting Delve's answer. */
  private readonly clientContinues = new Set<number>();
  /** Set by a launch with "haltFree": the unit whose halting is refused. */
  private haltFreeUnit?: string;
  /** setBreakpoints/setFunctionBreakpoints requests with refused breakpoints, by seq, until Delve answers. */
  private readonly refusals = new Map<number, { requested: readonly unknown[]; refused: number[] }>();
  private readonly journal = new DelveLogSplitter((text, fromDelve) => {
    if (fromDelve) {
      this.o.log.info(`[dlv] ${text.trimEnd()}`);
    }
    this.output(text, fromDelve ? 'console' : 'stdout');
  });

  constructor(private readonly o: DapProxyOptions) {
    this.bridge = new DapBridge(o.stream, {
      message: (m) => this.fromDelve(m),
      closed: (reason) => {
        if (reason) {
          void this.endSession(`The debug session ended: ${reason}.`, { viaDelve: false });
        }
      },
    });
  }

  handleClientMessage(message: DebugProtocol.ProtocolMessage): void {
    if (message.type !== 'request') {
      this.bridge.send(message);
      return;
    }
    let request = message as DebugProtocol.Request;
    if (this.haltFreeUnit && this.refuseHalting(request)) {
      return;
    }
    switch (request.command) {
      case 'launch': {
        const launchArgs = (request.arguments ?? {}) as Record<string, unknown>;
        this.haltFreeUnit = launchArgs.haltFree === true ? String(launchArgs.unit ?? 'kubelet.service') : undefined;
        if (this.haltFreeUnit) {
          this.output(`"haltFree" is on: only logpoints are set, and ${this.haltFreeUnit} is never halted.\n`, 'console');
        }
        this.bridge.send({
          ...request,
          command: 'attach',
          arguments: delveAttachArguments(launchArgs, { stopOnEntry: this.o.stopOnEntry, substitutePath: this.o.substitutePath }),
        } as DebugProtocol.Request);
        return;
      }
      case 'setBreakpoints': {
        if (this.haltFreeUnit) {
          const { forward, refused, requested } = keepLogpoints(request.arguments as DebugProtocol.SetBreakpointsArguments);
          if (refused.length > 0) {
            this.refusals.set(request.seq, { requested, refused });
          }
          request = { ...request, arguments: forward };
        }
        const args = request.arguments as DebugProtocol.SetBreakpointsArguments;
        const key = args.source.path ?? args.source.name ?? '';
        if ((args.breakpoints ?? []).length > 0) {
          this.sourcesWithBreakpoints.set(key, args.source);
        } else {
          this.sourcesWithBreakpoints.delete(key);
        }
        break;
      }
      case 'setFunctionBreakpoints':
        if (this.haltFreeUnit) {
          // A function breakpoint has no log message, so each one would halt; Delve gets none.
          const requested = (request.arguments as DebugProtocol.SetFunctionBreakpointsArguments).breakpoints;
          if (requested.length > 0) {
            this.refusals.set(request.seq, { requested, refused: requested.map((_, i) => i) });
          }
          request = { ...request, arguments: { breakpoints: [] } };
        }
        this.hadFunctionBreakpoints = (request.arguments as DebugProtocol.SetFunctionBreakpointsArguments).breakpoints.length > 0;
        break;
      case 'configurationDone':
        this.configurationDoneAt ??= Date.now();
        break;
      case 'continue':
        this.clientContinues.add(request.seq);
        this.o.onHaltChange?.(false);
        break;
      case 'next':
      case 'stepIn':
      case 'stepOut':
        // Delve answers these without a "continued" event; the kubelet runs again from here.
        this.o.onHaltChange?.(false);
        break;
      case 'restart':
        // Delve's restart would kill the kubelet and start a fresh one outside systemd. VS Code only
        // sends this when restart is advertised, which fromDelve prevents; refuse it all the same.
        this.o.toClient({
          ...new Response(request, 'Restart ends this session and starts a new one (the node is restored in between).'),
          success: false,
        } as DebugProtocol.Response);
        return;
      case 'disconnect':
      case 'terminate':
        void this.endSession(undefined, { viaDelve: true }).then(() => this.o.toClient(new Response(request)));
        return;
    }
    this.bridge.send(request);
  }

  /** Ends everything without a client request (VS Code went away). */
  dispose(): Promise<void> {
    return this.endSession(undefined, { viaDelve: this.bridge.isOpen });
  }

  private fromDelve(message: DebugProtocol.ProtocolMessage): void {
    if (message.type === 'response') {
      const response = message as DebugProtocol.Response;
      const own = this.ownPending.get(response.request_seq);
      if (own) {
        this.ownPending.delete(response.request_seq);
        own(response);
        return;
      }
      if (response.command === 'attach') {
        response.command = 'launch';
      }
      if (response.command === 'initialize' && response.body) {
        // VS Code then restarts by ending the session and launching again, through us (see above).
        (response.body as DebugProtocol.Capabilities).supportsRestartRequest = false;
      }
      if (this.clientContinues.delete(response.request_seq) && response.success) {
        // VS Code marks threads running only after a continue it sent itself; one sent with
        // customRequest (the halt warning's Continue) would leave the UI showing a halted session.
        const all = (response.body as DebugProtocol.ContinueResponse['body'] | undefined)?.allThreadsContinued ?? true;
        this.o.toClient(message);
        this.o.toClient(new ContinuedEvent(this.threadId, all));
        return;
      }
      const refusal = this.refusals.get(response.request_seq);
      if (refusal) {
        this.refusals.delete(response.request_seq);
        this.answerWithRefusals(response, refusal);
      }
    } else if (message.type === 'event') {
      const event = message as DebugProtocol.Event;
      if (event.event === 'stopped' && this.haltFreeUnit) {
        // Nothing the user set can halt it, but Delve may still stop (a hard-coded breakpoint in the
        // program): resume at once, and say so.
        const body = event.body as DebugProtocol.StoppedEvent['body'];
        this.output(
          `Delve halted ${this.haltFreeUnit} (${body.reason}${body.description ? `: ${body.description}` : ''}); resumed at once because "haltFree" is on.\n`,
          'important',
        );
        void this.ownRequest('continue', { threadId: body.threadId ?? this.threadId });
        return;
      }
      if (event.event === 'stopped') {
        this.threadId = (event.body as DebugProtocol.StoppedEvent['body']).threadId ?? this.threadId;
        this.o.onHaltChange?.(true);
        if (!this.stoppedOnce && this.configurationDoneAt !== undefined) {
          this.stoppedOnce = true;
          this.o.onFirstStop?.((Date.now() - this.configurationDoneAt) / 1000);
        }
      } else if (event.event === 'capabilities' && (event.body as DebugProtocol.CapabilitiesEvent['body'])?.capabilities) {
        (event.body as DebugProtocol.CapabilitiesEvent['body']).capabilities.supportsRestartRequest = false;
      } else if (event.event === 'continued') {
        this.o.onHaltChange?.(false);
      } else if (event.event === 'terminated' && !this.ending) {
        // The kubelet exited under Delve; put the real one back, then let VS Code end the session.
        void this.endSession(`The debugged ${this.o.target.unit} exited.`, { viaDelve: true }).then(() => this.o.toClient(event));
        return;
      }
    }
    this.o.toClient(message);
  }

  /**
   * With "haltFree": answers the requests that could only halt the program (pause, and breakpoint
   * kinds that never carry a log message) without passing them to Delve. True when answered.
   */
  private refuseHalting(request: DebugProtocol.Request): boolean {
    const unit = this.haltFreeUnit!;
    const response = new Response(request) as DebugProtocol.Response;
    switch (request.command) {
      case 'pause':
        response.success = false;
        response.message = haltRefusal(unit, 'pausing');
        break;
      case 'setInstructionBreakpoints':
      case 'setDataBreakpoints': {
        const requested = (request.arguments as { breakpoints: unknown[] }).breakpoints;
        response.body = {
          breakpoints: withRefusals(
            requested,
            requested.map((_, i) => i),
            [],
            haltRefusal(unit),
          ),
        };
        break;
      }
      case 'setExceptionBreakpoints': {
        const args = request.arguments as DebugProtocol.SetExceptionBreakpointsArguments;
        const requested = [...args.filters, ...(args.filterOptions ?? [])];
        if (requested.length === 0) {
          return false;
        }
        response.body = {
          breakpoints: withRefusals(
            requested,
            requested.map((_, i) => i),
            [],
            haltRefusal(unit, 'stopping on exceptions'),
          ),
        };
        break;
      }
      default:
        return false;
    }
    this.o.toClient(response);
    return true;
  }

  private answerWithRefusals(response: DebugProtocol.Response, refusal: { requested: readonly unknown[]; refused: number[] }): void {
    const message = haltRefusal(this.haltFreeUnit!);
    // When Delve failed the logpoints it was given, they show its reason; the refused ones show ours.
    const fromDelve: DebugProtocol.Breakpoint[] = response.success
      ? ((response.body as { breakpoints?: DebugProtocol.Breakpoint[] } | undefined)?.breakpoints ?? [])
      : refusal.requested
          .filter((_, i) => !refusal.refused.includes(i))
          .map(() => ({ verified: false, reason: 'failed', message: response.message }));
    response.success = true;
    response.message = undefined;
    response.body = { breakpoints: withRefusals(refusal.requested, refusal.refused, fromDelve, message) };
    this.output(`${refusal.refused.length} breakpoint${refusal.refused.length > 1 ? 's' : ''} refused. ${message}\n`, 'console');
  }

  private ownRequest(command: string, args: unknown, timeoutMs = 5000): Promise<DebugProtocol.Response | undefined> {
    if (!this.bridge.isOpen) {
      return Promise.resolve(undefined);
    }
    const seq = ++this.ownSeq;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.ownPending.delete(seq);
        resolve(undefined);
      }, timeoutMs);
      this.ownPending.set(seq, (r) => {
        clearTimeout(timer);
        resolve(r);
      });
      this.bridge.send({ seq, type: 'request', command, arguments: args } as DebugProtocol.Request);
    });
  }

  /**
   * The one way out. With Delve still reachable: clear every breakpoint (one left behind would halt
   * the kubelet with nobody attached), continue, disconnect without killing. Then restore the node.
   */
  private endSession(reason: string | undefined, how: { viaDelve: boolean }): Promise<void> {
    if (!this.ending) {
      this.ending = (async () => {
        if (reason) {
          this.output(`${reason}\n`, 'important');
        }
        if (how.viaDelve && this.bridge.isOpen) {
          for (const source of this.sourcesWithBreakpoints.values()) {
            await this.ownRequest('setBreakpoints', { source, breakpoints: [] });
          }
          if (this.hadFunctionBreakpoints) {
            await this.ownRequest('setFunctionBreakpoints', { breakpoints: [] });
          }
          await this.ownRequest('continue', { threadId: this.threadId });
          await this.ownRequest('disconnect', { terminateDebuggee: false });
          this.bridge.close();
        }
        this.o.onHaltChange?.(false);
        this.output(`Restoring ${this.o.target.unit} on the node…\n`, 'console');
        let outcome: { restored: boolean; message: string };
        try {
          const report = await this.o.target.restore();
          const ok = report.activeState === 'active' && report.leftovers.length === 0 && !report.problems?.length;
          outcome = {
            restored: ok,
            message: ok
              ? `Restored: the unit is active again, PID ${report.mainPid}, running ${report.executable}.`
              : `The node was restored, but check it: state ${report.activeState}${report.leftovers.length ? `; left behind: ${report.leftovers.join(', ')}` : ''}.`,
          };
          for (const note of report.notes ?? []) {
            outcome.message += ` ${note}`;
          }
        } catch (err) {
          outcome = {
            restored: false,
            message: `${(err as Error).message} The node-side safeguard will restore the unit once its lease runs out.`,
          };
        }
        this.output(`${outcome.message}\n`, outcome.restored ? 'console' : 'important');
        this.o.log.info(outcome.message);
        if (!this.finished) {
          this.finished = true;
          this.o.onFinished?.(outcome);
        }
        if (reason) {
          this.o.toClient(new TerminatedEvent());
        }
      })();
    }
    return this.ending;
  }

  private output(text: string, category: 'console' | 'important' | 'stdout' | 'stderr'): void {
    this.o.toClient(new OutputEvent(text, category));
  }

  /**
   * The unit's journal, shown in the Debug Console: the program's output as stdout, and Delve's own
   * log (showLog) as console lines, which the "Kubelet: Debug" channel keeps too.
   */
  debuggeeOutput(text: string): void {
    if (!this.finished) {
      this.journal.push(text);
    }
  }
}
