// The attach request Delve gets for a `kubelet` launch: Delve's options through, ours out.
import * as assert from 'assert';
import { delveAttachArguments } from '../../src/debug/delveAttachArguments';
import { withDefaults } from '../../src/debug/launchConfig';

describe('Delve attach arguments', () => {
  it("passes Delve's DAP options (and newer ones) as written, and keeps the session's own out", () => {
    const launch = {
      ...withDefaults({
        host: 'node-1',
        dlvFlags: ['--check-go-version=false'],
        showLog: true,
        haltFree: true,
        trace: 'verbose',
        env: { A: '1' },
        args: ['--v=4'],
      }),
      hideSystemGoroutines: true,
      goroutineFilters: '-with user',
      showGlobalVariables: true,
      stackTraceDepth: 7,
      showRegisters: true,
      showPprofLabels: ['k'],
      __configurationTarget: 6,
      __sessionId: 'x',
      __krdTarget: 'y',
      preLaunchTask: 'build',
      noDebug: false,
    };
    const mappings = [{ from: '/ws', to: '/build' }];
    assert.deepStrictEqual(delveAttachArguments(launch, { stopOnEntry: false, substitutePath: mappings }), {
      hideSystemGoroutines: true,
      goroutineFilters: '-with user',
      showGlobalVariables: true,
      stackTraceDepth: 7,
      showRegisters: true,
      showPprofLabels: ['k'],
      mode: 'remote',
      stopOnEntry: false,
      substitutePath: mappings,
    });
  });

  it('lets the session decide mode, stopOnEntry and substitutePath', () => {
    const args = delveAttachArguments(
      { mode: 'local', processId: 1, stopOnEntry: false, substitutePath: [{ from: 'a', to: 'b' }] },
      { stopOnEntry: true, substitutePath: [] },
    );
    assert.deepStrictEqual([args.mode, args.stopOnEntry, args.substitutePath, args.processId], ['remote', true, [], 1]);
    assert.deepStrictEqual(delveAttachArguments(undefined, { stopOnEntry: false, substitutePath: [] }), {
      mode: 'remote',
      stopOnEntry: false,
      substitutePath: [],
    });
  });
});
