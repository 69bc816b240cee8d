// Whether an upload should go compressed: decided from what was measured (the link's rate while SFTP
// sends, and gzip's rate and ratio on samples of the file), never fixed. On loopback SFTP wins (gzip -1
// runs at about 100 MB/s, the link at 150+); on a 50 Mbit/s link a Go debug binary's 3× ratio wins.

/** How long SFTP sends before the link's rate is judged: long enough to be past the first round trips. */
export const MEASURE_WINDOW_MS = 300;

/** The compressed stream must promise at least this much less time, as the estimates are rough. */
export const SWITCH_MARGIN = 0.8;

/**
 * The share of the sampled gzip speed counted on: the sample runs alone, the stream shares the CPU with
 * SSH's encryption, sshd and the node's gunzip. On a loaded 2-core machine a loopback upload that switched
 * on the full sampled speed compressed at a fifth of it (7.3 s instead of SFTP's 2.3 s).
 */
export const COMPRESS_DERATE = 0.5;

/**
 * Below this much SFTP time left, switching cannot pay for its restart and round trips, so the file is
 * not even sampled (on loopback the whole upload takes about a second; sampling would only slow it).
 */
export const MIN_SFTP_SECONDS_TO_JUDGE = 1;

/** Whether SFTP's rest is long enough to be worth weighing against a compressed restart. */
export function worthJudging(size: number, sent: number, linkBytesPerSecond: number): boolean {
  return linkBytesPerSecond > 0 && (size - sent) / linkBytesPerSecond >= MIN_SFTP_SECONDS_TO_JUDGE;
}

export interface UploadMeasurement {
  /** Bytes in the file. */
  size: number;
  /** Bytes SFTP has already written (lost when switching: the compressed stream starts over). */
  sent: number;
  /** What the link carried while SFTP sent. */
  linkBytesPerSecond: number;
  /** Input bytes per second that gzip -1 takes locally. */
  compressBytesPerSecond: number;
  /** Input bytes per output byte on the file's samples. */
  compressionRatio: number;
}

export interface UploadChoice {
  method: 'sftp' | 'gzip';
  /** Estimated seconds to finish each way. */
  sftpSeconds: number;
  gzipSeconds: number;
}

/** SFTP's rest against a compressed stream from the start, limited by the slower of gzip and the link. */
export function chooseUploadMethod(m: UploadMeasurement): UploadChoice {
  const sftpSeconds = Math.max(0, m.size - m.sent) / m.linkBytesPerSecond;
  const gzipRate = Math.min(m.compressBytesPerSecond * COMPRESS_DERATE, m.linkBytesPerSecond * m.compressionRatio);
  const gzipSeconds = m.size / gzipRate;
  const usable = [m.linkBytesPerSecond, m.compressBytesPerSecond, m.compressionRatio].every((x) => Number.isFinite(x) && x > 0);
  return { method: usable && gzipSeconds < sftpSeconds * SWITCH_MARGIN ? 'gzip' : 'sftp', sftpSeconds, gzipSeconds };
}
