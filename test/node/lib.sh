# Helpers shared by the node harness scripts (sourced, not run). Callers set log_prefix first.

log() { printf '[%s] %s\n' "${log_prefix:-krd}" "$*" >&2; }
die() { log "error: $*"; exit 1; }
# Seconds since $1 (an $EPOCHREALTIME value), for the timings the scripts print.
elapsed() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f s", b - a }'; }

# True if PID is still the systemd-nspawn process that runs machine NAME, so a recycled PID is never killed.
is_node_nspawn() {
  local pid=$1 name=$2 comm
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  comm=$(cat "/proc/$pid/comm" 2>/dev/null) || return 1
  [[ $comm == systemd-nspawn ]] || return 1
  tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null | grep -xF -- "--machine=$name" >/dev/null
}

# True if any systemd-nspawn process runs machine NAME (whoever started it).
machine_running() {
  local name=$1 dir
  for dir in /proc/[0-9]*; do
    is_node_nspawn "${dir#/proc/}" "$name" && return 0
  done
  return 1
}

# The container's PID 1: the child of nspawn that lives in another PID namespace.
container_pid1() {
  local nspawn=$1 dir stat ppid pid
  for dir in /proc/[0-9]*; do
    stat=$(cat "$dir/stat" 2>/dev/null) || continue
    stat=${stat##*) } # skip "pid (comm) ", comm may contain spaces
    read -r _ ppid _ <<<"$stat"
    [[ $ppid == "$nspawn" ]] || continue
    pid=${dir#/proc/}
    if [[ $(readlink "$dir/ns/pid") != "$(readlink "/proc/$nspawn/ns/pid")" ]]; then
      echo "$pid"
      return 0
    fi
  done
  return 1
}

# Waits up to $2 seconds for PID $1 to exit.
wait_gone() {
  local pid=$1 deadline=$((SECONDS + $2))
  while kill -0 "$pid" 2>/dev/null; do
    ((SECONDS < deadline)) || return 1
    sleep 0.1
  done
}

# A cgroup of its own for each node, one per writable systemd hierarchy, printed one a line. nspawn
# makes the node's payload/ and supervisor/ groups inside the cgroup it starts in; on a host whose
# PID 1 is not systemd that is the root for every node, so all nodes shared /payload/system.slice/*.
# Each node's systemd then saw the others' processes in its units of the same name: a unit stayed
# "populated", its stop waited out TimeoutStopSec, and it was never garbage-collected. Nothing is
# printed where systemd runs the host (it gives nspawn a cgroup itself).
node_cgroups() {
  local name=$1 h
  [[ $(cat /proc/1/comm 2>/dev/null) == systemd ]] && return 0
  if [[ $(stat -fc %T /sys/fs/cgroup 2>/dev/null) == cgroup2fs ]]; then
    echo "/sys/fs/cgroup/krd-nodes/$name"
    return 0
  fi
  for h in /sys/fs/cgroup/systemd /sys/fs/cgroup/unified; do
    [[ -w $h/cgroup.procs ]] && echo "$h/krd-nodes/$name"
  done
  return 0
}

# Removes a node's cgroups (and the empty groups nspawn and the node's systemd left in them).
remove_node_cgroups() {
  local dir
  for dir in "$@"; do
    [[ $dir == /sys/fs/cgroup/*/krd-nodes/* || $dir == /sys/fs/cgroup/krd-nodes/* ]] || continue
    [[ -d $dir ]] && find "$dir" -depth -type d -exec rmdir {} + 2>/dev/null
  done
  return 0
}
