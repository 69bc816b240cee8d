// The choice between SFTP and a gzip stream, on the figures measured on this machine: gzip -1 takes
// about 100 MB/s (counted at half, COMPRESS_DERATE) and packs a Go debug binary 3.2×; SFTP on loopback
// moves 150 MB/s.
import * as assert from 'assert';
import { chooseUploadMethod, COMPRESS_DERATE, SWITCH_MARGIN, worthJudging } from '../../src/node/uploadMethod';

const MB = 1e6;
const kubelet = { size: 153 * MB, compressBytesPerSecond: 100 * MB, compressionRatio: 3.2 };

describe('uploadMethod', () => {
  it('keeps SFTP on loopback, where the link outruns compression', () => {
    const c = chooseUploadMethod({ ...kubelet, sent: 45 * MB, linkBytesPerSecond: 150 * MB });
    assert.strictEqual(c.method, 'sftp');
    assert.strictEqual(c.gzipSeconds, 3.06, 'gzip counted at 50 MB/s');
    assert.strictEqual(c.sftpSeconds, 0.72);
  });

  it('keeps SFTP on a loopback slowed to 40 MB/s by a loaded machine', () => {
    const c = chooseUploadMethod({ ...kubelet, sent: 12 * MB, linkBytesPerSecond: 40 * MB });
    assert.strictEqual(c.method, 'sftp', `${c.gzipSeconds} s of gzip against ${SWITCH_MARGIN} × ${c.sftpSeconds} s of SFTP`);
  });

  it('switches to gzip at 50 Mbit/s, where the link is the limit and 3.2× less to send wins', () => {
    const c = chooseUploadMethod({ ...kubelet, sent: 2 * MB, linkBytesPerSecond: 6.25 * MB });
    assert.strictEqual(c.method, 'gzip');
    assert.strictEqual(c.gzipSeconds, 153 / 20);
    assert.strictEqual(c.sftpSeconds, 151 / 6.25);
  });

  it('still switches at 50 Mbit/s when compression samples at only 20 MB/s', () => {
    assert.strictEqual(
      chooseUploadMethod({ ...kubelet, compressBytesPerSecond: 20 * MB, sent: 2 * MB, linkBytesPerSecond: 6.25 * MB }).method,
      'gzip',
    );
  });

  it('is limited by compression when the link is faster than gzip can feed it', () => {
    const at25 = chooseUploadMethod({ ...kubelet, sent: 0, linkBytesPerSecond: 25 * MB });
    assert.strictEqual(at25.gzipSeconds, 153 / (100 * COMPRESS_DERATE), 'gzip at its counted speed, not the link × ratio (80 MB/s)');
    assert.strictEqual(at25.method, 'gzip', `3.06 s is under ${SWITCH_MARGIN} × 6.12 s`);
    const at45 = chooseUploadMethod({ ...kubelet, sent: 0, linkBytesPerSecond: 45 * MB });
    assert.strictEqual(at45.method, 'sftp', `3.06 s is not under ${SWITCH_MARGIN} × 3.4 s`);
  });

  it('keeps SFTP for data that does not compress, however slow the link', () => {
    assert.strictEqual(chooseUploadMethod({ ...kubelet, compressionRatio: 1.0, sent: 0, linkBytesPerSecond: 1 * MB }).method, 'sftp');
  });

  it('does not start over when SFTP is nearly done', () => {
    const c = chooseUploadMethod({ ...kubelet, sent: 140 * MB, linkBytesPerSecond: 6.25 * MB });
    assert.strictEqual(c.method, 'sftp', `${c.sftpSeconds} s of SFTP left against ${c.gzipSeconds} s from the start`);
  });

  it('keeps SFTP when a measurement is missing or zero', () => {
    for (const broken of [{ linkBytesPerSecond: 0 }, { compressBytesPerSecond: NaN }, { compressionRatio: Infinity }]) {
      assert.strictEqual(
        chooseUploadMethod({ ...kubelet, sent: 0, linkBytesPerSecond: 1 * MB, ...broken }).method,
        'sftp',
        JSON.stringify(broken),
      );
    }
  });
});

describe('uploadMethod: worth judging', () => {
  it('skips the sampling when SFTP has less than a second left', () => {
    // Loopback, 300 ms into 120 MiB at 300 MB/s: about 0.1 s left.
    assert.strictEqual(worthJudging(126 * MB, 90 * MB, 300 * MB), false);
    // 50 Mbit/s, 300 ms into the debug kubelet: 24 s left.
    assert.strictEqual(worthJudging(153 * MB, 2 * MB, 6.25 * MB), true);
    assert.strictEqual(worthJudging(153 * MB, 2 * MB, 0), false, 'no rate, nothing to judge');
  });
});
