// A minimal DAP client for the bash baseline (bench/firstStop.sh): connects to 127.0.0.1:PORT (retrying
// while the tunnel comes up), attaches to Delve, breaks in syncLoop and exits at the first stop.
import * as net from 'node:net';

const port = Number(process.argv[2]);
const fn = 'k8s.io/kubernetes/pkg/kubelet.(*Kubelet).syncLoop';
const deadline = Date.now() + 60_000;

function connectOnce() {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => resolve(s));
    s.on('error', () => resolve(undefined));
  });
}

let sock;
for (let i = 0; i < 600 && !sock && Date.now() < deadline; i++) {
  sock = await connectOnce();
  if (!sock) {
    await new Promise((r) => setTimeout(r, 50));
  }
}
if (!sock) {
  console.error('no tunnel');
  process.exit(2);
}
let seq = 1;
let buf = Buffer.alloc(0);
const send = (command, args) => {
  const body = Buffer.from(JSON.stringify({ seq: seq++, type: 'request', command, arguments: args }));
  sock.write(Buffer.concat([Buffer.from(`Content-Length: ${body.length}\r\n\r\n`), body]));
};
const timer = setTimeout(() => {
  console.error('no stop within 60 s');
  process.exit(3);
}, 60_000);
sock.on('close', () => {
  console.error('Delve closed the connection (the tunnel may have opened before Delve listened)');
  process.exit(4);
});
sock.on('data', (chunk) => {
  buf = Buffer.concat([buf, chunk]);
  for (;;) {
    const sep = buf.indexOf('\r\n\r\n');
    if (sep < 0) return;
    const len = Number(/Content-Length: (\d+)/i.exec(buf.subarray(0, sep).toString())[1]);
    if (buf.length < sep + 4 + len) return;
    const m = JSON.parse(buf.subarray(sep + 4, sep + 4 + len).toString());
    buf = buf.subarray(sep + 4 + len);
    if (m.type === 'response' && m.command === 'initialize') send('attach', { mode: 'remote' });
    if (m.type === 'event' && m.event === 'initialized') send('setFunctionBreakpoints', { breakpoints: [{ name: fn }] });
    if (m.type === 'response' && m.command === 'setFunctionBreakpoints') send('configurationDone');
    if (m.type === 'event' && m.event === 'stopped') {
      clearTimeout(timer);
      sock.removeAllListeners('close');
      sock.destroy();
      process.exit(0);
    }
  }
});
send('initialize', { adapterID: 'bench', pathFormat: 'path', linesStartAt1: true, columnsStartAt1: true });
