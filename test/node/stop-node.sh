#!/usr/bin/env bash
# Stops test nodes started by boot-node.sh. A node is identified only by the nspawn PID recorded in its
# state directory, and that PID is killed only while it still is systemd-nspawn running that machine.
# Usage: stop-node.sh STATE_DIR...       stop these nodes
#        stop-node.sh --all PARENT_DIR   stop every node whose state directory is directly under PARENT_DIR
#                                        (for leftovers of a killed test run)
# Idempotent: for a node that is already gone it only removes the leftovers (veth, in-use marker).
set -euo pipefail

here=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
log_prefix=stop-node
source "$here/lib.sh"

stop_one() {
  local state=$1 name pid pid1 host_if marker owner t cgroups
  [[ -f $state/name ]] || return 0 # never booted
  name=$(<"$state/name")
  pid=$(cat "$state/nspawn.pid" 2>/dev/null || true)
  if [[ -n $pid ]] && is_node_nspawn "$pid" "$name"; then
    t=$EPOCHREALTIME
    # SIGTERM makes nspawn halt the node cleanly. If that hangs, kill the container's PID 1, which ends
    # the whole node; SIGKILL to nspawn itself would leave an orphaned systemd behind.
    kill -TERM "$pid" 2>/dev/null || true
    if ! wait_gone "$pid" 10; then
      log "$name did not halt within 10 s; killing its init"
      if pid1=$(container_pid1 "$pid"); then kill -KILL "$pid1" 2>/dev/null || true; fi
      wait_gone "$pid" 5 || die "systemd-nspawn $pid ($name) is still running"
    fi
    log "stopped $name in $(elapsed "$t")"
  fi
  rm -f "$state/nspawn.pid"

  # nspawn removes the veth itself on a clean exit; after a kill it may stay. Remove it only while no
  # machine of that name runs, so a node booted again under the same name keeps its network.
  host_if=$(cat "$state/host-iface" 2>/dev/null || true)
  if [[ -n $host_if ]] && ip link show dev "$host_if" type veth >/dev/null 2>&1 && ! machine_running "$name"; then
    ip link delete dev "$host_if" && log "removed the leftover veth $host_if"
  fi
  rm -f "$state/host-iface"

  if [[ -f $state/cgroups ]] && ! machine_running "$name"; then
    mapfile -t cgroups <"$state/cgroups"
    remove_node_cgroups "${cgroups[@]}"
    rm -f "$state/cgroups"
  fi

  # The marker may belong to a newer node of the same name by now: drop it only if its PID is gone.
  marker=$(cat "$state/in-use-marker" 2>/dev/null || true)
  if [[ -n $marker && -f $marker ]]; then
    read -r owner _ <"$marker" || true
    [[ $owner =~ ^[0-9]+$ ]] && kill -0 "$owner" 2>/dev/null || rm -f "$marker"
  fi
  rm -f "$state/in-use-marker"
}

states=()
if [[ ${1:-} == --all ]]; then
  (($# == 2)) || die "usage: stop-node.sh --all PARENT_DIR"
  for state in "$2"/*/; do
    [[ -d $state ]] && states+=("${state%/}")
  done
else
  (($# >= 1)) || die "usage: stop-node.sh STATE_DIR... | --all PARENT_DIR"
  states=("$@")
fi
# In parallel: each node takes about 2 s to halt.
jobs=()
for state in "${states[@]}"; do
  stop_one "$state" &
  jobs+=($!)
done
rc=0
for job in "${jobs[@]}"; do wait "$job" || rc=1; done
exit $rc
