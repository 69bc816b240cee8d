#!/bin/bash
# The OpenSSH baseline for "time to first stop in syncLoop": what a developer would script by hand.
# Usage: bench/firstStop.sh SSH_CONFIG HOST_ALIAS LOCAL_PORT (the debug binary already at /var/lib/kubelet-debug/kubelet).
set -euo pipefail
cfg=$1 host=$2 port=$3
start=$(date +%s.%N)
# Stop the unit and start Delve in the background with the unit's own (expanded) arguments.
ssh -F "$cfg" "$host" 'pid=$(systemctl show -p MainPID --value kubelet)
args=$(tr "\0" "\n" </proc/$pid/cmdline | tail -n +2 | tr "\n" " ")
systemctl stop kubelet
setsid nohup dlv exec --headless --listen=127.0.0.1:2345 --api-version=2 --accept-multiclient /var/lib/kubelet-debug/kubelet -- $args >/tmp/krd-bench-dlv.log 2>&1 </dev/null &
for i in $(seq 300); do ss -Htln "sport = :2345" | grep -q . && exit 0; sleep 0.1; done; exit 1'
ssh -F "$cfg" -N -o ExitOnForwardFailure=yes -L "127.0.0.1:$port:127.0.0.1:2345" "$host" &
tunnel=$!
trap 'kill $tunnel 2>/dev/null' EXIT
node "$(dirname "$0")/miniDap.mjs" "$port"
end=$(date +%s.%N)
echo "first-stop-seconds=$(echo "$end - $start" | bc -l)"
