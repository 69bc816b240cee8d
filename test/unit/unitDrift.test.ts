// describeDrift names what differs between a running process and its unit files.
import * as assert from 'assert';
import { describeDrift } from '../../src/systemd/unitHealth';

describe('describeDrift', () => {
  const unit = { argv: ['/usr/bin/kubelet', '--v=2', '--config=/c'], env: { A: '1' } };

  it("accepts a resolved argv[0] and systemd's own variables", () => {
    assert.deepStrictEqual(
      describeDrift(
        unit,
        { argv: ['kubelet', '--v=2', '--config=/c'], environ: { A: '1', PATH: '/usr/bin', INVOCATION_ID: 'x', MINE: 'm' } },
        new Set(['MINE']),
      ),
      [],
    );
  });

  it('names arguments added or dropped when the lengths differ', () => {
    assert.deepStrictEqual(describeDrift(unit, { argv: ['/usr/bin/kubelet', '--v=2'] }), [
      'the unit files add "--config=/c" to the command line',
    ]);
    assert.deepStrictEqual(describeDrift(unit, { argv: ['/usr/bin/kubelet', '--v=2', '--config=/c', '--old'] }), [
      'the running process has "--old", which the unit files no longer give',
    ]);
  });

  it('names a changed argument by position, and variables added, changed or removed', () => {
    assert.deepStrictEqual(describeDrift(unit, { argv: ['/usr/bin/kubelet', '--v=4', '--config=/c'], environ: { A: '2', GONE: 'x' } }), [
      'argument 1 is "--v=2" in the unit files but "--v=4" in the running process',
      'A is "1" in the unit files but "2" in the running process',
      'GONE is set in the running process but no longer in the unit files',
    ]);
    assert.deepStrictEqual(describeDrift(unit, { environ: {} }), ['A is set in the unit files (A=1) but not in the running process']);
  });
});
