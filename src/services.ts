// The services every feature shares, created once at activation.
import * as vscode from 'vscode';
import { DebugSessions } from './debug/debugSessions';
import { ConnectionManager } from './ssh/nodeConnection';
import { SshConfigResolver } from './ssh/sshConfig';
import { connectPrompts } from './ui/connectPrompts';
import { asLogger, createLogChannels, LogChannels } from './ui/logChannels';
import { KnownNodes } from './ui/knownNodes';
import { ClusterInventory } from './ui/clusterInventory';
import { NodesTreeProvider, registerNodesView } from './views/nodesTree';

export interface Services {
  logs: LogChannels;
  resolver: SshConfigResolver;
  connections: ConnectionManager;
  knownNodes: KnownNodes;
  /** The kubeconfig contexts, their nodes, and the cordons this machine made. */
  clusters: ClusterInventory;
  nodesTree: NodesTreeProvider;
  /** This window's kubelet debug sessions, prepared and live. */
  debugSessions: DebugSessions;
}

export function createServices(context: vscode.ExtensionContext): Services {
  const logs = createLogChannels();
  const settings = () => vscode.workspace.getConfiguration('kubelet');
  const resolver = new SshConfigResolver({ userConfigFile: () => settings().get<string>('ssh.configFile') });
  const connections = new ConnectionManager(
    resolver,
    {
      prompts: connectPrompts,
      log: asLogger(logs.ssh),
      get defaultTimeoutSeconds() {
        return settings().get<number>('ssh.connectTimeoutSeconds', 15);
      },
      transport: () => {
        const value = settings().get<string>('ssh.transport', 'auto');
        return value === 'ssh2' || value === 'openssh' ? value : 'auto';
      },
    },
    asLogger(logs.ssh),
  );
  const knownNodes = new KnownNodes(resolver);
  const clusters = new ClusterInventory(resolver, context.globalState);
  context.subscriptions.push(connections, knownNodes, clusters);
  const nodesTree = registerNodesView(context, knownNodes, connections, clusters);
  const debugSessions = new DebugSessions(asLogger(logs.debug));
  return { logs, resolver, connections, knownNodes, clusters, nodesTree, debugSessions };
}
