#!/bin/bash
# Delve's start-up on a node, timed there with OpenSSH only: from `systemctl restart kubelet` under a
# hand-written debug drop-in until Delve listens, and until it answers JSON-RPC (which it does only once
# it has loaded the binary). Then the node is put back. Usage: bench/delveStartup.sh SSH_CONFIG HOST_ALIAS BINARY_ON_NODE
set -euo pipefail
cfg=$1 host=$2 binary=$3
ssh -F "$cfg" "$host" bash -s -- "$binary" <<'NODE'
set -euo pipefail
binary=$1
dropin=/run/systemd/system/kubelet.service.d/99-bench-delve.conf
pid=$(systemctl show -p MainPID --value kubelet)
args=$(tr '\0' '\n' </proc/"$pid"/cmdline | tail -n +2 | tr '\n' ' ')
mkdir -p "${dropin%/*}"
# TimeoutStopSec: Delve may ignore SIGTERM while its kubelet is stopped under ptrace.
printf '[Service]\nExecStart=\nExecStart=%s exec --headless --listen=127.0.0.1:2345 --api-version=2 --accept-multiclient %s -- %s\nTimeoutStopSec=5s\n' \
  "$(command -v dlv)" "$binary" "$args" >"$dropin"
systemctl daemon-reload
restore() {
  exec 3>&- 2>/dev/null || true
  systemctl stop kubelet
  rm -f "$dropin"
  rmdir "${dropin%/*}" 2>/dev/null || true
  systemctl daemon-reload
  systemctl start kubelet
}
trap restore EXIT
now() { date +%s%N; }
t0=$(now)
systemctl restart kubelet
listen=''
for _ in $(seq 1200); do # 60 s
  if exec 3<>/dev/tcp/127.0.0.1/2345; then listen=$(now); break; fi 2>/dev/null
  sleep 0.05
done
[ -n "$listen" ] || { echo "Delve did not listen within 60 s" >&2; exit 1; }
printf '{"method":"RPCServer.GetVersion","params":[{}],"id":1}' >&3
read -r -t 90 reply <&3 || { echo "Delve did not answer within 90 s" >&2; exit 1; }
answer=$(now)
case $reply in *'"error":null'*) ;; *) echo "Delve answered with an error: $reply" >&2; exit 1 ;; esac
echo "delve-listen-ms=$(( (listen - t0) / 1000000 ))"
echo "delve-answer-ms=$(( (answer - t0) / 1000000 ))"
NODE
