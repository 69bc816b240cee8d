// haltFree: which breakpoints reach Delve, and how the refused ones are answered in place.
import * as assert from 'assert';
import { haltRefusal, keepLogpoints, withRefusals } from '../../src/debug/haltFree';

describe('haltFree breakpoints', () => {
  it('keeps only logpoints; a condition or hit count alone still halts', () => {
    const { forward, refused } = keepLogpoints({
      source: { path: '/ws/a.go' },
      breakpoints: [
        { line: 1 },
        { line: 2, logMessage: 'x={x}' },
        { line: 3, condition: 'x > 1' },
        { line: 4, hitCondition: '3' },
        { line: 5, logMessage: '  ' },
        { line: 6, logMessage: 'y', condition: 'y' },
      ],
    });
    assert.deepStrictEqual(refused, [0, 2, 3, 4]);
    assert.deepStrictEqual(forward.breakpoints, [
      { line: 2, logMessage: 'x={x}' },
      { line: 6, logMessage: 'y', condition: 'y' },
    ]);
    assert.deepStrictEqual(forward.lines, [2, 6]);
    assert.deepStrictEqual(keepLogpoints({ source: { path: '/a' }, lines: [9] }).refused, [0], 'the old "lines" form is plain breakpoints');
  });

  it("answers in the order asked, with Delve's answers between the refusals", () => {
    const message = haltRefusal('kubelet.service');
    const answered = withRefusals([{ line: 1 }, { line: 2 }, { line: 3 }], [0, 2], [{ id: 7, verified: true, line: 2 }], message);
    assert.deepStrictEqual(answered, [
      { verified: false, reason: 'failed', message, line: 1 },
      { id: 7, verified: true, line: 2 },
      { verified: false, reason: 'failed', message, line: 3 },
    ]);
    assert.match(message, /would halt kubelet\.service \(a halted kubelet makes its node NotReady after about 40 s\)/);
    assert.match(haltRefusal('demo.service', 'pausing'), /pausing would halt demo\.service \(demo\.service stops serving/);
  });
});
