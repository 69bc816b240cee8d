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
import { DebugTarget, DEFAULT_DELVE_START_TIMEOUT_SECONDS, launchKubeletUnderDelve } from './kubeletLauncher';
import { KubeletLaunchConfig, validateLaunchConfig } from './launchConfig';
import { HaltTimer, nodeLeaseGraceSeconds } from './haltTimer';
import { watchForLeftoverSessions } from './leftoverSessionWatcher';
import { leaseRenewMs } from './nodeSafeguard';
import { mappingsFor } from './pathMapping';
import { dapTrafficTracker } from './sessionTrace';
import { functionForStage } from './startupStages';
import { PreparedCluster, prepareClusterSession, undoLeftoverCordonsAtStart, withClusterRestore } from '../ui/clusterDebug';

/** The cluster side of a prepared target (its node's cordon and health), when its node is in a known cluster. */
const clusterOf = new WeakMap<DebugTarget, PreparedCluster>();

/** A restore stops Delve (up to its 5 s stop timeout), reloads systemd and starts the unit. */
const RESTART_WAIT_MS = 60_000;

/** Returns the start-up check of cordons left by a crashed VS Code (settles once it has run). */
export function registerKubeletDebugger(context: vscode.ExtensionContext, services: Services): Promise<void> {
  const log = services.logs.debug;
  const sessions = services.debugSessions;
  watchForLeftoverSessions(context, services, () => sessions.hostsInUse());
  const leftoverCordonsChecked = undoLeftoverCordonsAtStart(services);
  const provider = new KubeletConfigurationProvider(services.knownNodes, async (config, folder) => {
    const target = await prepareTarget(config, folder, services);
    return target ? sessions.addPrepared(target) : undefined;
  });
  context.subscriptions.push(
    vscode.debug.registerDebugConfigurationProvider('kubelet', provider),
    // A separate object: VS Code runs the resolve hooks of every registration, and they must run once.
    vscode.debug.registerDebugConfigurationProvider(
      'kubelet',
      { provideDebugConfigurations: () => provider.provideDebugConfigurations() },
      vscode.DebugConfigurationProviderTriggerKind.Dynamic,
    ),
    vscode.debug.registerDebugAdapterDescriptorFactory('kubelet', {
      createDebugAdapterDescriptor: async (session) =>
        createAdapter(session, sessions.claim(session.configuration.__krdTarget) ?? (await prepareForRestart(session, services)), services),
    }),
    vscode.debug.registerDebugAdapterTrackerFactory('kubelet', {
      createDebugAdapterTracker: (session) => dapTrafficTracker(session, log, context.extension.id),
    }),
    { dispose: () => void sessions.dispose() },
  );
  return leftoverCordonsChecked;
}

async function prepareTarget(
  config: KubeletLaunchConfig,
  folder: vscode.WorkspaceFolder | undefined,
  services: Services,
): Promise<DebugTarget | undefined> {
  const log = services.logs.debug;
  const node = services.connections.get(config.host);
  const settings = vscode.workspace.getConfiguration('kubelet');
  const cluster = await prepareClusterSession(config.host, services);
  if (cluster === 'cancelled') {
    log.info(`Debugging was cancelled; ${config.unit} was left as it was.`);
    return undefined;
  }
  try {
    return await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Debug ${config.unit} on ${config.host}`, cancellable: true },
      async (progress, token) => {
        const abort = new AbortController();
        const sub = token.onCancellationRequested(() => abort.abort());
        if (cluster?.cordon) {
          progress.report({ message: `Cordoning ${cluster.session.node}` });
          await cluster.session.cordon(cluster.sessionId, abort.signal);
          services.clusters.refresh();
        }
        try {
          const target = await launchKubeletUnderDelve(node, config, folder?.uri.fsPath, {
            log: asLogger(log),
            signal: abort.signal,
            graceSeconds: settings.get<number>('debug.safeguardGraceSeconds', 20),
            delveStartTimeoutSeconds: settings.get<number>('debug.delveStartTimeoutSeconds', DEFAULT_DELVE_START_TIMEOUT_SECONDS),
            localDlvPath: settings.get<string>('debug.localDlvPath') || undefined,
            progress: (step) => {
              log.info(step);
              progress.report({ message: step });
            },
            uploadProgress: (p) =>
              progress.report({
                message: `Uploading ${(p.transferred / 1e6).toFixed(0)} of ${(p.total / 1e6).toFixed(0)} MB (${(p.bytesPerSecond / 1e6).toFixed(0)} MB/s)`,
              }),
            runLocalBuild: (command, cwd) => runBuildTask(command, cwd, abort.signal),
            buildOutput: (chunk) => log.info(chunk.trimEnd()),
            confirmVersionSkew: (message) => confirmSkew(config.host, message),
            apiServerVersion: async () => (cluster ? cluster.serverVersion : undefined),
          });
          if (cluster) {
            target.restore = withClusterRestore(target.restore, cluster, services);
            clusterOf.set(target, cluster);
          }
          log.info(
            `Ready on ${config.host}: ${Object.entries(target.timings)
              .map(([k, v]) => `${k} ${v.toFixed(2)} s`)
              .join(', ')}.`,
          );
          services.nodesTree.refresh(config.host);
          return target;
        } catch (err) {
          if (cluster?.session.cordoned) {
            await cluster.session.uncordon().catch((e: Error) => log.error(`Uncordoning after a failed start also failed: ${e.message}`));
            services.clusters.refresh();
          }
          throw err;
        } finally {
          sub.dispose();
        }
      },
    );
  } catch (err) {
    if (isCancelled(err)) {
      log.info(`Debugging was cancelled; ${config.unit} was left as it was.`);
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

/**
 * The toolbar's Restart: VS Code ends the session (we restore the node), then starts the adapter
 * again with the configuration it resolved before, whose prepared target is long used. So the launch
 * runs again here: rebuild when the configuration builds, upload only if the binary changed, and
 * restart the unit under Delve; VS Code then sends the same breakpoints.
 */
async function prepareForRestart(session: vscode.DebugSession, services: Services): Promise<DebugTarget> {
  const { config, problems } = validateLaunchConfig(session.configuration);
  if (!config) {
    throw new Error(`The kubelet launch configuration "${session.name}" has problems: ${problems.join(' ')}`);
  }
  services.logs.debug.info(`Restarting the debug session on ${config.host}.`);
  // VS Code relaunches after a short wait for our disconnect answer, while the old session may still be
  // restoring the node; the new launch would find the node held. Wait for that session to finish.
  if (!(await services.debugSessions.waitUntilFree(config.host, RESTART_WAIT_MS))) {
    throw new Error(
      `The previous session on ${config.host} was still restoring the node after ${RESTART_WAIT_MS / 1000} s; start debugging again once it is done.`,
    );
  }
  const target = await prepareTarget(config, session.workspaceFolder, services);
  if (!target) {
    throw new Error(
      `The restart on ${config.host} did not start: it was cancelled, or failed as the notification says. ${config.unit} runs as before.`,
    );
  }
  return target;
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

async function createAdapter(
  session: vscode.DebugSession,
  target: DebugTarget | undefined,
  services: Services,
): Promise<vscode.DebugAdapterDescriptor> {
  if (!target) {
    throw new Error('This kubelet debug session was not prepared (start it from Run and Debug or "Kubelet: Debug kubelet on node…").');
  }
  const log = services.logs.debug;
  const config = session.configuration as unknown as KubeletLaunchConfig;
  const folder = session.workspaceFolder?.uri.fsPath;
  const disposables: vscode.Disposable[] = [];
  const adapterStarted = Date.now();
  try {
    const { mappings, outcome } = mappingsFor(config.substitutePath, folder, target.sources);
    for (const m of mappings) {
      log.info(`Path mapping: ${m.from} ⇄ ${m.to}`);
    }
    const stages = config.breakAt.map((s) => ({ stage: s, func: functionForStage(s, target.functions) }));
    const missing = stages.filter((s) => !s.func).map((s) => s.stage);
    await armStageBreakpoints(stages.flatMap((s) => (s.func ? [s.func] : [])));

    const stream = await target.openStream();
    const emitter = new vscode.EventEmitter<vscode.DebugProtocolMessage>();
    const cluster = clusterOf.get(target);
    const halt = new HaltTimer(
      session,
      config.host,
      nodeLeaseGraceSeconds(target.kubeVersion?.minor),
      cluster && { read: () => cluster.session.health(), onReadyChange: () => services.clusters.refresh() },
    );
    disposables.push(emitter, halt);
    const proxy = new KubeletDapProxy({
      stream,
      target,
      substitutePath: mappings,
      stopOnEntry: config.stopOnEntry,
      log: asLogger(log),
      toClient: (m) => emitter.fire(m as vscode.DebugProtocolMessage),
      onHaltChange: (halted) => halt.set(halted),
      onFirstStop: (seconds) => {
        const breakdown = { ...target.timings, attach: (Date.now() - adapterStarted) / 1000 - seconds, 'kubelet start-up': seconds };
        log.info(
          `First stop on ${config.host}: ${Object.entries(breakdown)
            .map(([k, v]) => `${k} ${v.toFixed(2)} s`)
            .join(', ')}.`,
        );
      },
      onFinished: () => {
        services.debugSessions.ended(session.id);
        disposables.forEach((d) => d.dispose());
        services.nodesTree.refresh(config.host);
      },
    });
    if (outcome?.kind === 'none') {
      proxy.debuggeeOutput(
        `No path mapping: none of the binary's source files${outcome.example ? ` (such as ${outcome.example})` : ''} was found under ${folder}. Source breakpoints will not bind until you open the tree the binary was built from, or set "substitutePath": [{ "from": "\${workspaceFolder}", "to": "<the build's source root>" }] in the launch configuration.\n`,
      );
    }
    if (missing.length > 0) {
      proxy.debuggeeOutput(
        `This ${config.unit === 'kubelet.service' ? 'kubelet' : 'binary'} has no ${missing.join(', ')} (names change between versions); those stages are not armed.\n`,
      );
    }
    // Lease renewal: the node restores itself if these stop arriving.
    const renew = () => target.renewLease().catch((e: Error) => log.warn(`Lease renewal failed: ${e.message}`));
    void renew();
    const grace = vscode.workspace.getConfiguration('kubelet').get<number>('debug.safeguardGraceSeconds', 20);
    const lease = setInterval(renew, leaseRenewMs(grace));
    disposables.push({ dispose: () => clearInterval(lease) });
    disposables.push(followJournal(target, (text) => proxy.debuggeeOutput(text)));

    services.debugSessions.started(session.id, config.host, target.functions);
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
  const existing = new Set(
    vscode.debug.breakpoints
      .filter((b): b is vscode.FunctionBreakpoint => b instanceof vscode.FunctionBreakpoint)
      .map((b) => b.functionName),
  );
  const toAdd = functionNames.filter((f) => !existing.has(f)).map((f) => new vscode.FunctionBreakpoint(f, true));
  if (toAdd.length > 0) {
    vscode.debug.addBreakpoints(toAdd);
  }
}

/** Streams the unit's journal (the debugged kubelet's stdout and stderr) into the Debug Console. */
function followJournal(target: DebugTarget, write: (text: string) => void): vscode.Disposable {
  const abort = new AbortController();
  void target.node
    .execAsRoot(['journalctl', '--no-pager', '-o', 'cat', '-f', '-n', '0', '-u', target.unit], {
      signal: abort.signal,
      maxBuffer: 0,
      onStdout: (c) => write(c.toString('utf8')),
    })
    .catch(() => undefined);
  return { dispose: () => abort.abort() };
}
