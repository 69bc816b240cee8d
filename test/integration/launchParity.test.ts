// vscode-go's launch attributes in a real VS Code against the real test node: a haltFree session
// whose logpoint prints in the Debug Console while the kubelet runs on and whose plain breakpoint is
// refused, Delve's own log (showLog) and the DAP traffic (trace) where the user looks for them, and
// "Kubelet" offered in the debugger picker of a Kubernetes tree only.
import * as assert from 'assert';
import { mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import type { DebugProtocol } from '@vscode/debugprotocol';
import * as vscode from 'vscode';
import { folderWantsKubeletDebugger } from '../../src/debug/debuggerPicker';
import { firstStatementOf } from '../support/goSource';
import { EXTENSION_ID, extensionApi, nodeSsh, testNode, until, untilOriginalKubelet } from './testNodeAccess';

describe("vscode-go's launch attributes (real VS Code, real node)", function () {
  this.timeout(300_000);

  it('offers the Kubelet debugger in the sample kubelet tree, and not in an unrelated Go module', async () => {
    const api = (await extensionApi()) as unknown as { debuggerOffered(): Promise<boolean> };
    assert.strictEqual(await api.debuggerOffered(), true, 'kubelet.offerDebugger was set to true');
    const debuggers = vscode.extensions.getExtension(EXTENSION_ID)!.packageJSON.contributes.debuggers as { hiddenWhen?: string }[];
    assert.match(debuggers[0].hiddenWhen ?? '', /!kubelet\.offerDebugger/);

    assert.strictEqual(await folderWantsKubeletDebugger(vscode.workspace.workspaceFolders![0].uri), true);
    const other = mkdtempSync(path.join(tmpdir(), 'krd-go-'));
    try {
      writeFileSync(path.join(other, 'go.mod'), 'module example.com/demo\n\ngo 1.19\n');
      writeFileSync(path.join(other, 'main.go'), 'package main\n\nfunc main() {}\n');
      assert.strictEqual(await folderWantsKubeletDebugger(vscode.Uri.file(other)), false);
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });

  it("haltFree: a logpoint prints while the kubelet runs on, a plain breakpoint is refused; Delve's log and the DAP traffic show", async () => {
    const node = testNode();
    const folder = vscode.workspace.workspaceFolders![0];
    const kubeletGo = vscode.Uri.file(path.join(folder.uri.fsPath, 'pkg', 'kubelet', 'kubelet.go'));
    const text = (await vscode.workspace.openTextDocument(kubeletGo)).getText().split('\n');
    const at = (line: number) => new vscode.Location(kubeletGo, new vscode.Position(line - 1, 0));
    const logLine = firstStatementOf(text, /^func \(kl \*Kubelet\) syncLoopIteration\(/);
    const haltLine = firstStatementOf(text, /^func \(kl \*Kubelet\) syncLoop\(/);
    vscode.debug.addBreakpoints([
      new vscode.SourceBreakpoint(at(logLine), true, undefined, undefined, 'tick, sources seen: {len(kl.sourcesSeen)}'),
      new vscode.SourceBreakpoint(at(haltLine)),
    ]);

    const requests = new Map<number, DebugProtocol.Request>();
    const answers: { request: DebugProtocol.SetBreakpointsArguments; response: DebugProtocol.SetBreakpointsResponse }[] = [];
    const events: DebugProtocol.Event[] = [];
    const tracker = vscode.debug.registerDebugAdapterTrackerFactory('kubelet', {
      createDebugAdapterTracker: () => ({
        onWillReceiveMessage: (m: DebugProtocol.Request) => requests.set(m.seq, m),
        onDidSendMessage: (m: DebugProtocol.ProtocolMessage) => {
          if (m.type === 'event') {
            events.push(m as DebugProtocol.Event);
          } else if (m.type === 'response' && (m as DebugProtocol.Response).command === 'setBreakpoints') {
            const response = m as DebugProtocol.SetBreakpointsResponse;
            answers.push({ request: requests.get(response.request_seq)!.arguments, response });
          }
        },
      }),
    });
    const output = (category: string) =>
      events
        .filter((e) => e.event === 'output' && e.body.category === category)
        .map((e) => e.body.output as string)
        .join('');
    const ended = new Promise<void>((resolve) => {
      const sub = vscode.debug.onDidTerminateDebugSession(() => {
        sub.dispose();
        resolve();
      });
    });
    try {
      assert.ok(
        await vscode.debug.startDebugging(
          folder,
          {
            type: 'kubelet',
            request: 'launch',
            name: 'integration haltFree',
            host: node.alias,
            build: { where: 'local' },
            haltFree: true,
            showLog: true,
            logOutput: 'debugger,dap',
            trace: 'verbose',
          },
          { suppressSaveBeforeStart: true },
        ),
        'the session started',
      ); // Untitled editors of other tests would ask for a file name.
      const session = vscode.debug.activeDebugSession!;

      // Delve prints the logpoint at each syncLoopIteration, once a second, and the kubelet runs on.
      await until(
        'three logpoint messages',
        () => ((output('stdout').match(/tick, sources seen: \d+/g) ?? []).length >= 3 ? true : undefined),
        120_000,
      );
      const answer = answers.filter((a) => a.request.source.path?.endsWith('/pkg/kubelet/kubelet.go')).pop()!;
      const byLine = new Map(answer.request.breakpoints!.map((bp, i) => [bp.line, answer.response.body.breakpoints[i]]));
      assert.strictEqual(byLine.get(logLine)?.verified, true, JSON.stringify(answer.response.body));
      assert.strictEqual(byLine.get(haltLine)?.verified, false);
      assert.match(
        byLine.get(haltLine)?.message ?? '',
        /"haltFree" is on, and this breakpoint would halt kubelet\.service .*NotReady after about 40 s/,
      );
      assert.ok(!events.some((e) => e.event === 'stopped'), 'nothing halted the kubelet');
      assert.strictEqual((await nodeSsh('systemctl is-active kubelet')).trim(), 'active');

      // showLog: Delve's own lines come from the unit's journal as console output, apart from the kubelet's.
      await until("Delve's log in the Debug Console", () => (/^\S+Z debug layer=dap /m.test(output('console')) ? true : undefined), 30_000);
      assert.ok(!/ layer=dap /.test(output('stdout')), "Delve's lines are not mixed into the program's output");
      // trace: "verbose": the channel was raised to Trace and shows every DAP message, the first ones too.
      const channel = () =>
        vscode.workspace.textDocuments
          .find((d) => d.uri.scheme === 'output' && decodeURIComponent(d.uri.path).includes('Kubelet Debug'))
          ?.getText();
      // The Debug Console may have taken the panel since; pick the channel in the Output view, as the user would.
      await vscode.commands.executeCommand(`workbench.action.output.show.${EXTENSION_ID}.Kubelet Debug.log`);
      await until(
        'the DAP traffic in "Kubelet: Debug"',
        () => (/\[trace\] Delve → VS Code .*"event":"output"/.test(channel() ?? '') ? true : undefined),
        30_000,
      );
      assert.match(channel()!, /\[trace\] VS Code → Delve \{"command":"initialize"/);

      await vscode.debug.stopDebugging(session);
      await ended;
      await untilOriginalKubelet();
    } finally {
      tracker.dispose();
      vscode.debug.removeBreakpoints(vscode.debug.breakpoints);
    }
  });
});
