// Wires the `kubelet` debug type into VS Code: configuration provider, the launch (with a cancellable
// progress notification), the inline adapter over the SSH tunnel, DAP trace logging, and the
// node-health timer while the kubelet is halted.
import type { DebugProtocol } from '@vscode/debugprotocol';
import * as vscode from 'vscode';
import { isCancelled } from '../common/errors';
import type { Services } from '../services';
import { asLogger } from '../ui/logChannels';
import { runBuildTask } from '../ui/buildTask';
import { showError } from '../ui/showError';
import { KubeletConfigurationProvider } from './configurationProvider';
import { KubeletDapProxy } from './dapProxy';
import { DelveRpc } from './delveRpc';
import { DebugTarget, launchKubeletUnderDelve } from './kubeletLauncher';
import type { KubeletLaunchConfig } from './launchConfig';
import { clearPanicStops } from './haltFree';
import { HaltTimer, nodeLeaseGraceSeconds } from './haltTimer';
import { watchForLeftoverSessions } from './leftoverSessionWatcher';
import { derivePathMappings, findAnchor } from './pathMapping';
import { PreparedTargets } from './preparedTargets';
import { dapTrafficTracker } from './sessionTrace';
import { functionForStage } from './startupStages';

const LEASE_RENEW_MS = 5000;

/** Live kubelet sessions of this window: host → the kubelet functions its binary has. */
const liveSessions = new Map<string, { host: string; functions: string[] }>();

/** The functions of the binary being debugged in `session`, when it is one of ours. */
export function functionsOfSession(session: vscode.DebugSession | undefined): string[] | undefined {
  return session ? liveSessions.get(session.id)?.functions : undefined;
}

export function registerKubeletDebugger(context: vscode.ExtensionContext, services: Services): void {
  const log = services.logs.debug;
  watchForLeftoverSessions(context, services, () => new Set([...liveSessions.values()].map((s) => s.host)));
  const prepared = new PreparedTargets(asLogger(log));
  const provider = new KubeletConfigurationProvider(services.knownNodes, async (config, folder) => {
    const target = await prepareTarget(config, folder, services);
    return target ? prepared.add(target) : undefined;
  });
  context.subscriptions.push(
    vscode.debug.registerDebugConfigurationProvider('kubelet', provider),
    // A separate object: VS Code runs the resolve hooks of every registration, and they must run once.
    vscode.debug.registerDebugConfigurationProvider('kubelet', { provideDebugConfigurations: () => provider.provideDebugConfigurations() }, vscode.DebugConfigurationProviderTriggerKind.Dynamic),
    vscode.debug.registerDebugAdapterDescriptorFactory('kubelet', {
      createDebugAdapterDescriptor: (session) => createAdapter(session, prepared.claim(session.configuration.__krdTarget), services),
    }),
    vscode.debug.registerDebugAdapterTrackerFactory('kubelet', {
      createDebugAdapterTracker: (session) => dapTrafficTracker(session, log, context.extension.id),
    }),
    { dispose: () => void prepared.dispose() },
  );
}

async function prepareTarget(config: KubeletLaunchConfig, folder: vscode.WorkspaceFolder | undefined, services: Services): Promise<DebugTarget | undefined> {
  const log = services.logs.debug;
  const node = services.connections.get(config.host);
  const settings = vscode.workspace.getConfiguration('kubelet');
  try {
    return await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Debug kubelet on ${config.host}`, cancellable: true },
      async (progress, token) => {
        const abort = new AbortController();
        const sub = token.onCancellationRequested(() => abort.abort());
        try {
          const target = await launchKubeletUnderDelve(node, config, folder?.uri.fsPath, {
            log: asLogger(log),
            signal: abort.signal,
            graceSeconds: settings.get<number>('debug.safeguardGraceSeconds', 20),
            localDlvPath: settings.get<string>('debug.localDlvPath') || undefined,
            progress: (step) => {
              log.info(step);
              progress.report({ message: step });
            },
            uploadProgress: (p) => progress.report({ message: `Uploading ${(p.transferred / 1e6).toFixed(0)} of ${(p.total / 1e6).toFixed(0)} MB (${(p.bytesPerSecond / 1e6).toFixed(0)} MB/s)` }),
            runLocalBuild: (command, cwd) => runBuildTask(command, cwd, abort.signal),
            buildOutput: (chunk) => log.info(chunk.trimEnd()),
            confirmVersionSkew: (message) => confirmSkew(config.host, message),
          });
          log.info(`Ready on ${config.host}: ${Object.entries(target.timings).map(([k, v]) => `${k} ${v.toFixed(2)} s`).join(', ')}.`);
          services.nodesTree.refresh(config.host);
          return target;
        } finally {
          sub.dispose();
        }
      },
    );
  } catch (err) {
    if (isCancelled(err)) {
      log.info('Debugging was cancelled; the kubelet was left as it was.');
      return undefined;
    }
    // Not awaited: the debug start ends now, and Retry starts a fresh one.
    void showError(err, log).then((retry) => {
      if (retry) {
        void vscode.debug.startDebugging(folder, config as unknown as vscode.DebugConfiguration);
      }
    });
    return undefined;
  }
}

async function confirmSkew(host: string, message: string): Promise<boolean> {
  const settings = vscode.workspace.getConfiguration('kubelet');
  const skipped = settings.get<string[]>('debug.skipVersionSkewWarning', []);
  if (skipped.includes(host)) {
    return true;
  }
  const go = 'Debug Anyway';
  const always = `Debug Anyway, Don't Ask Again for ${host}`;
  const choice = await vscode.window.showWarningMessage(`Version skew on ${host}`, { modal: true, detail: message }, go, always);
  if (choice === always) {
    await settings.update('debug.skipVersionSkewWarning', [...skipped, host], vscode.ConfigurationTarget.Global);
  }
  return choice === go || choice === always;
}

async function createAdapter(session: vscode.DebugSession, target: DebugTarget | undefined, services: Services): Promise<vscode.DebugAdapterDescriptor> {
  if (!target) {
    throw new Error('This kubelet debug session was not prepared (start it from Run and Debug or "Kubelet: Debug kubelet on node…").');
  }
  const log = services.logs.debug;
  const config = session.configuration as unknown as KubeletLaunchConfig;
  const folder = session.workspaceFolder?.uri.fsPath;
  const disposables: vscode.Disposable[] = [];
  try {
    // Ask Delve (JSON-RPC, same port) where the binary thinks its sources are, and which stages it has.
    const rpc = new DelveRpc(await target.node.forwardOut('127.0.0.1', target.port));
    const [sources, functions] = await Promise.all([
      rpc.listSources('pkg/kubelet/kubelet\\.go$'),
      rpc.listFunctions('^k8s\\.io/kubernetes/(cmd/kubelet/app|pkg/kubelet)\\.'),
    ]);
    if (config.haltFree) {
      await clearPanicStops(rpc);
    }
    rpc.close();
    const mappings = derivePathMappings(config.substitutePath, folder, findAnchor(sources));
    for (const m of mappings) {
      log.info(`Path mapping: ${m.from} ⇄ ${m.to}`);
    }
    const missing = config.breakAt.filter((s) => !functions.includes(functionForStage(s) ?? ''));
    await armStageBreakpoints(config.breakAt.filter((s) => !missing.includes(s)).map((s) => functionForStage(s)!));

    const stream = await target.node.forwardOut('127.0.0.1', target.port);
    const emitter = new vscode.EventEmitter<vscode.DebugProtocolMessage>();
    const halt = new HaltTimer(config.host, nodeLeaseGraceSeconds(target.kubeVersion?.minor));
    disposables.push(emitter, halt);
    const proxy = new KubeletDapProxy({
      stream,
      target,
      substitutePath: mappings,
      stopOnEntry: config.stopOnEntry,
      log: asLogger(log),
      toClient: (m) => emitter.fire(m as vscode.DebugProtocolMessage),
      onHaltChange: (halted) => halt.set(halted),
      onFinished: () => {
        liveSessions.delete(session.id);
        disposables.forEach((d) => d.dispose());
        services.nodesTree.refresh(config.host);
      },
    });
    if (missing.length > 0) {
      proxy.debuggeeOutput(`This kubelet has no ${missing.join(', ')} (names change between versions); those stages are not armed.\n`);
    }
    // Lease renewal: the node restores itself if these stop arriving.
    const lease = setInterval(() => target.renewLease().catch((e: Error) => log.warn(`Lease renewal failed: ${e.message}`)), LEASE_RENEW_MS);
    disposables.push({ dispose: () => clearInterval(lease) });
    disposables.push(followJournal(target, (text) => proxy.debuggeeOutput(text)));

    liveSessions.set(session.id, { host: config.host, functions });
    const adapter: vscode.DebugAdapter = {
      onDidSendMessage: emitter.event,
      handleMessage: (m) => proxy.handleClientMessage(m as DebugProtocol.ProtocolMessage),
      dispose: () => void proxy.dispose(),
    };
    return new vscode.DebugAdapterInlineImplementation(adapter);
  } catch (err) {
    disposables.forEach((d) => d.dispose());
    await target.restore().catch((e: Error) => log.error(e.message));
    throw err;
  }
}

/** Adds function breakpoints for the stages, so they show in the Breakpoints view and are set before the kubelet runs. */
async function armStageBreakpoints(functionNames: string[]): Promise<void> {
  const existing = new Set(vscode.debug.breakpoints.filter((b): b is vscode.FunctionBreakpoint => b instanceof vscode.FunctionBreakpoint).map((b) => b.functionName));
  const toAdd = functionNames.filter((f) => !existing.has(f)).map((f) => new vscode.FunctionBreakpoint(f, true));
  if (toAdd.length > 0) {
    vscode.debug.addBreakpoints(toAdd);
  }
}

/** Streams the unit's journal (the debugged kubelet's stdout and stderr) into the Debug Console. */
function followJournal(target: DebugTarget, write: (text: string) => void): vscode.Disposable {
  const abort = new AbortController();
  void target.node.execAsRoot(['journalctl', '--no-pager', '-o', 'cat', '-f', '-n', '0', '-u', target.unit], {
    signal: abort.signal,
    maxBuffer: 0,
    onStdout: (c) => write(c.toString('utf8')),
  }).catch(() => undefined);
  return { dispose: () => abort.abort() };
}

