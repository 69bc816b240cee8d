// Delve's log lines (showLog) told apart from the program's in the unit's journal.
import * as assert from 'assert';
import { DelveLogSplitter, isDelveLogLine } from '../../src/debug/delveLogLines';

// As Delve 1.20.2 wrote them on the test node.
const DELVE = [
  '2026-12-01T23:16:39Z info layer=debugger launching process with args: [/usr/bin/kubelet --help]\n',
  '2026-12-01T23:21:32Z debug layer=dap [<- from client]{"seq":7,"type":"request","command":"scopes"}\n',
];
const KUBELET = ['I1201 23:21:33.000000     213 kubelet.go:352] "Starting kubelet main sync loop"\n', 'plain output\n'];

describe('Delve log lines', () => {
  it("recognises Delve's format and nothing else", () => {
    assert.ok(DELVE.every(isDelveLogLine));
    assert.ok(!KUBELET.some(isDelveLogLine));
    assert.ok(isDelveLogLine('2026-12-01T23:16:39.123+02:00 warning layer=rpc x'));
  });

  it('emits runs of whole lines, holding a line cut between chunks until its end arrives', () => {
    const got: [string, boolean][] = [];
    const splitter = new DelveLogSplitter((text, fromDelve) => got.push([text, fromDelve]));
    const all = KUBELET[0] + DELVE[0] + DELVE[1] + KUBELET[1];
    // Cut inside Delve's timestamp, where half a line would look like the program's.
    const cut = KUBELET[0].length + 7;
    splitter.push(all.slice(0, cut));
    splitter.push(all.slice(cut));
    assert.deepStrictEqual(got, [
      [KUBELET[0], false],
      [DELVE[0] + DELVE[1], true],
      [KUBELET[1], false],
    ]);
  });
});
