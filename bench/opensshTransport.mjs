// The openssh transport beside the ssh2 one, in the same run: the upload (uploadBinary over each,
// against OpenSSH's best, `sftp -B 32768 -R 8`, by hand) and the DAP round trip (`ssh -W` through
// the master against ssh2's forwardOut). Called from bench/run.mjs, which owns the node and the table.
import { closeSync, openSync, statSync, writeFileSync, writeSync } from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { fmt, median, out, percentile, run } from './lib.mjs';

const { connect } = out('test/support/nodeClient');
const { uploadBinary } = out('src/node/upload');

const DLV_UNIT = 'krd-bench-ossh-dlv';
const DLV_PORT = 2346;
/** Within this factor of the reference counts as met (2 shared cores make single figures noisy). */
const TARGET = 1.1;

function touchByte(file) {
  const fd = openSync(file, 'r+');
  writeSync(fd, randomBytes(1), 0, 1, statSync(file).size - 1);
  closeSync(fd);
}

async function timedUpload(conn, file, remote) {
  let first;
  let last;
  const t0 = performance.now();
  await uploadBinary(conn, file, remote, {
    onProgress: () => {
      first ??= performance.now();
      last = performance.now();
    },
  });
  return { total: (performance.now() - t0) / 1000, transfer: (last - first) / 1000 };
}

/**
 * @param {object} o
 * @param {import('../test/node/testNode').TestNode} o.node
 * @param {string} o.file a 120 MiB file to upload (one byte changes per round)
 * @param {(stream: any, useBridge: boolean, n: number, first: boolean) => Promise<number[]>} o.dapRound run.mjs's DAP session
 */
export async function benchOpensshTransport({ node, file, rounds, dapRequests, dapRound, rows, results, log }) {
  const ssh2 = connect(node, 'root', undefined, 'ssh2');
  const openssh = connect(node, 'root', undefined, 'openssh');
  const remote = '/var/lib/kubelet-debug/bench-transport';
  const mib = statSync(file).size / 1024 / 1024;
  const mb = statSync(file).size / 1e6;
  try {
    await node.ssh('mkdir -p /var/lib/kubelet-debug');
    const viaSsh2 = [];
    const viaOpenssh = [];
    const sftpBest = [];
    const batch = path.join(path.dirname(file), 'sftp-batch');
    writeFileSync(batch, `put ${file} ${remote}-sftp\n`);
    for (let round = 0; round < rounds; round++) {
      touchByte(file);
      viaSsh2.push(await timedUpload(ssh2, file, remote));
      touchByte(file);
      viaOpenssh.push(await timedUpload(openssh, file, remote));
      const r = await run('sftp', ['-q', '-B', '32768', '-R', '8', '-F', node.sshConfigPath, '-b', batch, node.sshHosts.root]);
      if (r.code !== 0) {
        throw new Error(`sftp failed: ${r.stderr}`);
      }
      sftpBest.push(r.ms / 1000);
      log(
        `transport upload round ${round + 1}: ssh2 ${fmt(viaSsh2.at(-1).total)} s, openssh ${fmt(viaOpenssh.at(-1).total)} s (transfer ${fmt(viaOpenssh.at(-1).transfer)} s), sftp -B32768 -R8 ${fmt(sftpBest.at(-1))} s`,
      );
    }
    const transfer = median(viaOpenssh.map((u) => u.transfer));
    const ratio = transfer / median(sftpBest);
    rows.push([
      `Upload, openssh transport (${fmt(mib, 0)} MiB)`,
      `${fmt(mb / median(viaOpenssh.map((u) => u.total)), 0)} MB/s (${fmt(median(viaOpenssh.map((u) => u.total)))} s; transfer phase ${fmt(transfer)} s)`,
      `sftp -B32768 -R8 ${fmt(median(sftpBest))} s; ssh2 transport ${fmt(median(viaSsh2.map((u) => u.total)))} s (transfer ${fmt(median(viaSsh2.map((u) => u.transfer)))} s)`,
      `${fmt(ratio)}× sftp's time`,
      `transfer ≤ ${TARGET}× sftp`,
      ratio <= TARGET ? 'met' : 'MISSED',
    ]);

    await node.ssh(
      `systemd-run --quiet --collect --unit=${DLV_UNIT} dlv exec --headless --listen=127.0.0.1:${DLV_PORT} --api-version=2 --accept-multiclient /var/lib/kubelet-debug/kubelet -- --config=/var/lib/kubelet/config.yaml`,
    );
    await node.ssh(`for i in $(seq 100); do ss -Htln "sport = :${DLV_PORT}" | grep -q . && exit 0; sleep 0.1; done; exit 1`);
    const per = Math.ceil(dapRequests / rounds);
    const w = [];
    const fwd = [];
    for (let round = 0; round < rounds; round++) {
      fwd.push(...(await dapRound(await ssh2.forwardOut('127.0.0.1', DLV_PORT), true, per, round === 0)));
      w.push(...(await dapRound(await openssh.forwardOut('127.0.0.1', DLV_PORT), true, per, false)));
      log(`transport dap round ${round + 1}: ssh -W median ${fmt(median(w), 3)} ms, ssh2 forwardOut median ${fmt(median(fwd), 3)} ms`);
    }
    const dapRatio = median(w) / median(fwd);
    rows.push([
      `DAP round trip, openssh transport (${w.length}, ssh -W)`,
      `median ${fmt(median(w), 3)} ms, p99 ${fmt(percentile(w, 99), 3)} ms`,
      `ssh2 forwardOut median ${fmt(median(fwd), 3)} ms, p99 ${fmt(percentile(fwd, 99), 3)} ms`,
      `${fmt(dapRatio)}×`,
      'reported',
      '',
    ]);
    results.figures.opensshTransport = {
      upload: {
        megabytes: mb,
        opensshSeconds: viaOpenssh.map((u) => u.total),
        opensshTransferSeconds: viaOpenssh.map((u) => u.transfer),
        ssh2Seconds: viaSsh2.map((u) => u.total),
        ssh2TransferSeconds: viaSsh2.map((u) => u.transfer),
        sftpBestSeconds: sftpBest,
        transferVsSftp: ratio,
      },
      dapRoundTrip: {
        requests: w.length,
        sshW: { medianMs: median(w), p99Ms: percentile(w, 99) },
        ssh2ForwardOut: { medianMs: median(fwd), p99Ms: percentile(fwd, 99) },
        ratio: dapRatio,
      },
    };
  } finally {
    ssh2.disconnect();
    openssh.disconnect();
    await node.ssh(`systemctl stop ${DLV_UNIT}; rm -f ${remote} ${remote}.krd-sha256 ${remote}-sftp; true`);
  }
}
