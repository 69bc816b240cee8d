// The choice between SFTP and a gzip stream, on the figures measured on this machine: gzip -1 takes
// about 100 MB/s and packs a Go debug binary 3.2×; SFTP on loopback moves 150 MB/s.
import * as assert from 'assert';
import { chooseUploadMethod, SWITCH_MARGIN } from '../../src/node/uploadMethod';

const MB = 1e6;
const kubelet = { size: 153 * MB, compressBytesPerSecond: 100 * MB, compressionRatio: 3.2 };

describe('uploadMethod', () => {
  it('keeps SFTP on loopback, where the link outruns compression', () => {
    const c = chooseUploadMethod({ ...kubelet, sent: 45 * MB, linkBytesPerSecond: 150 * MB });
    assert.strictEqual(c.method, 'sftp');
    assert.strictEqual(c.gzipSeconds, 1.53);
    assert.strictEqual(c.sftpSeconds, 0.72);
  });

  it('switches to gzip at 50 Mbit/s, where the link is the limit and 3.2× less to send wins', () => {
    const c = chooseUploadMethod({ ...kubelet, sent: 2 * MB, linkBytesPerSecond: 6.25 * MB });
    assert.strictEqual(c.method, 'gzip');
    assert.strictEqual(c.gzipSeconds, 153 / 20);
    assert.strictEqual(c.sftpSeconds, 151 / 6.25);
  });

  it('is limited by compression when the link is faster than gzip can feed it', () => {
    const at60 = chooseUploadMethod({ ...kubelet, sent: 0, linkBytesPerSecond: 60 * MB });
    assert.strictEqual(at60.gzipSeconds, 1.53, 'gzip at 100 MB/s, not the link × ratio (192 MB/s)');
    assert.strictEqual(at60.method, 'gzip', `1.53 s is under ${SWITCH_MARGIN} × 2.55 s`);
    const at90 = chooseUploadMethod({ ...kubelet, sent: 0, linkBytesPerSecond: 90 * MB });
    assert.strictEqual(at90.gzipSeconds, 1.53);
    assert.strictEqual(at90.method, 'sftp', `1.53 s is not under ${SWITCH_MARGIN} × 1.7 s`);
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
