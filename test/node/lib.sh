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

# Each node gets its own cgroup in every hierarchy the host has (the v1 controllers, name=systemd and the
# unified one), below the cgroup the caller sits in. Without that, two nodes' systemd both take the host's
# root cgroup as theirs, their kubelet.service cgroups are the same directory, and one node's unit stop can
# hang on the other's processes; the real kubelet also creates kubepods/ there.
# Prints the created directories, one a line (for node_cgroups_remove), and moves process $2 into them.
node_cgroups_enter() {
  local name=$1 pid=$2 line hier ctrl rel mnt dir memberships
  # Read it whole first: the file changes under a reader as the process moves.
  memberships=$(<"/proc/$pid/cgroup")
  while IFS= read -r line; do
    hier=${line%%:*}
    ctrl=${line#*:}
    rel=${ctrl#*:}
    ctrl=${ctrl%%:*}
    if [[ $hier == 0 ]]; then
      mnt=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
    else
      mnt=$(awk -v c="$ctrl" '$3 == "cgroup" { n = split($4, o, ","); for (i = 1; i <= n; i++) if (o[i] == c) { print $2; exit } }' /proc/mounts)
    fi
    [[ -n $mnt && -d $mnt ]] || continue
    dir=$mnt${rel%/}/krd-node-$name
    mkdir -p "$dir" 2>/dev/null || continue
    # cpuset children start empty; a process cannot join one until cpus and mems are set.
    if [[ -f $dir/cpuset.cpus ]]; then
      cat "$(dirname "$dir")/cpuset.cpus" >"$dir/cpuset.cpus"
      cat "$(dirname "$dir")/cpuset.mems" >"$dir/cpuset.mems"
    fi
    if echo "$pid" >"$dir/cgroup.procs" 2>/dev/null; then
      echo "$dir"
    else
      rmdir "$dir" 2>/dev/null || true
    fi
  done <<<"$memberships"
}

# Removes the directories node_cgroups_enter made, deepest first (the node's systemd and kubelet left
# their own below them). Only empty cgroups can go, so this runs after the node has stopped.
node_cgroups_remove() {
  local list=$1 dir sub
  [[ -f $list ]] || return 0
  while IFS= read -r dir; do
    [[ $dir == */krd-node-* && -d $dir ]] || continue
    while IFS= read -r sub; do rmdir "$sub" 2>/dev/null || true; done < <(find "$dir" -mindepth 1 -type d | awk '{ print length($0) " " $0 }' | sort -rn | cut -d' ' -f2-)
    rmdir "$dir" 2>/dev/null || log "could not remove the cgroup $dir (still in use?)"
  done <"$list"
  rm -f "$list"
}

# For the configure steps: mounts /proc and /dev in the rootfs at $1 (Go, make and dpkg need them),
# unmounts them on every exit path (so build-rootfs.sh can rename the tree), and defines in_root to run
# a command inside it with a clean environment.
enter_rootfs() {
  chroot_dir=$1
  mounts=()
  in_root() {
    chroot "$chroot_dir" /usr/bin/env -i HOME=/root LANG=C.UTF-8 \
      PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$@"
  }
  unmount_all() {
    local i
    for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do umount "${mounts[i]}" 2>/dev/null || umount -l "${mounts[i]}"; done
    mounts=()
  }
  trap unmount_all EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  mount -t proc proc "$chroot_dir/proc" && mounts+=("$chroot_dir/proc")
  mount --bind /dev "$chroot_dir/dev" && mounts+=("$chroot_dir/dev")
}
