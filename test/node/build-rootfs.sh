#!/usr/bin/env bash
# Builds and caches the test node's root file systems, then prints the configured node directory on stdout.
# Two cached layers under $KRD_CACHE_DIR (default /var/cache/kubelet-remote-debug):
#   base-<hash>/  debootstrap output, keyed by rootfs-base.sh (which holds the suite and package list);
#   node-<hash>/  rootfs/ + client/ + host_ed25519.pub, keyed by the base hash, rootfs-configure.sh, lib.sh,
#                 test/node/rootfs/** and the sample kubelet source (test/fixtures/kubelet-src).
# Each layer is built in a .tmp-* directory and renamed into place, so a directory with the final name is
# always complete. Progress and timings go to stderr. A second run with nothing changed is a no-op.
set -euo pipefail

here=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
repo=$(cd "$here/../.." && pwd)
cache=${KRD_CACHE_DIR:-/var/cache/kubelet-remote-debug}
# Override only while working on the harness itself; the project's tests always use the fixture.
kubelet_src=${KRD_KUBELET_SRC:-$repo/test/fixtures/kubelet-src}
suite=bookworm

log_prefix=build-rootfs
source "$here/lib.sh"
short_hash() { sha256sum | cut -c1-16; }

# Hash of a directory tree's names, modes, symlink targets and file contents; $2.. are top-level names to skip.
tree_hash() {
  local dir=$1 name
  shift
  local prune=()
  for name in "$@"; do prune+=(-path "./$name" -prune -o); done
  (
    cd "$dir"
    find . "${prune[@]}" -printf '%p %m %y %l\n' | LC_ALL=C sort
    find . "${prune[@]}" -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum
  ) | short_hash
}

# Removes a stale build directory without ever descending into something still mounted inside it.
remove_build_dir() {
  local dir=$1 mnt
  [[ -e $dir ]] || return 0
  while read -r mnt; do
    umount "$mnt" 2>/dev/null || umount -l "$mnt"
  done < <(awk -v d="$dir/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo | sort -r)
  rm -rf --one-file-system "$dir"
}

# A node directory is in use while a marker in in-use/ names it and the PID in that marker is alive.
# boot-node.sh writes the markers and stop-node.sh removes them; markers of dead PIDs are dropped here.
prune_old() {
  local keep_node=$1 keep_base=$2 dir marker pid used t
  declare -A in_use=()
  for marker in "$cache"/in-use/*; do
    [[ -f $marker ]] || continue
    read -r pid used <"$marker" || true
    if [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null; then in_use[$used]=1; else rm -f "$marker"; fi
  done
  for dir in "$cache"/node-*/; do
    dir=${dir%/}
    [[ -d $dir && $dir != "$keep_node" ]] || continue
    if [[ -n ${in_use[$dir]:-} ]]; then log "keeping $(basename "$dir"): a running node uses it"; continue; fi
    t=$EPOCHREALTIME
    rm -rf --one-file-system "$dir"
    log "pruned $(basename "$dir") in $(elapsed "$t")"
  done
  for dir in "$cache"/base-*/; do
    dir=${dir%/}
    [[ -d $dir && $dir != "$keep_base" ]] || continue
    t=$EPOCHREALTIME
    rm -rf --one-file-system "$dir"
    log "pruned $(basename "$dir") in $(elapsed "$t")"
  done
}

base_key=$(short_hash <"$here/rootfs-base.sh")
[[ -f $kubelet_src/Makefile ]] || die "the sample kubelet source is missing: $kubelet_src/Makefile"
node_key=$(
  {
    echo "$base_key"
    sha256sum <"$here/rootfs-configure.sh"
    sha256sum <"$here/lib.sh" # enter_rootfs, used by the configure step
    tree_hash "$here/rootfs"
    tree_hash "$kubelet_src" _output
  } | short_hash
)
base_dir=$cache/base-$base_key
node_dir=$cache/node-$node_key

if [[ -d $node_dir ]]; then
  echo "$node_dir"
  exit 0
fi

[[ $EUID -eq 0 ]] || die "building the test node rootfs needs root (debootstrap, chroot, mount)"
for tool in debootstrap chroot flock mount ssh-keygen; do
  command -v "$tool" >/dev/null ||
    die "$tool is missing; install the host tools with: apt-get install -y --no-install-recommends debootstrap systemd-container openssh-client iproute2"
done

mkdir -p "$cache/in-use"
exec 9>"$cache/.rootfs.lock"
if ! flock -n 9; then
  log "waiting for another build in $cache"
  flock 9
fi
if [[ -d $node_dir ]]; then # another process built it while we waited
  echo "$node_dir"
  exit 0
fi

# Only this process (holding the lock) builds, so any build directory left behind is from a killed build.
for stale in "$cache"/.tmp-base-* "$cache"/.tmp-node-*; do
  [[ -e $stale ]] || continue
  log "removing the interrupted build $(basename "$stale")"
  remove_build_dir "$stale"
done
tmp=
trap '[[ -n $tmp ]] && remove_build_dir "$tmp"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

t_all=$EPOCHREALTIME
if [[ ! -d $base_dir ]]; then
  mirror=$("$here/debian-mirror.sh") || die "no Debian mirror found in /etc/apt/sources.list.d/*.sources or /etc/apt/sources.list"
  log "debootstrap $suite from $mirror into $(basename "$base_dir") (about 2 min)"
  t=$EPOCHREALTIME
  tmp=$(mktemp -d "$cache/.tmp-base-XXXXXX")
  chmod 0755 "$tmp" # becomes the node's /
  debootstrap_log=$cache/.debootstrap-$base_key.log
  "$here/rootfs-base.sh" "$tmp" "$mirror" >"$debootstrap_log" 2>&1 ||
    die "debootstrap failed; last lines of $debootstrap_log:$(printf '\n'; tail -n 20 "$debootstrap_log")"
  mv -T "$tmp" "$base_dir"
  tmp=
  log "base rootfs built in $(elapsed "$t") ($(du -sh "$base_dir" | cut -f1))"
fi

log "configuring $(basename "$node_dir") from $(basename "$base_dir")"
t=$EPOCHREALTIME
tmp=$(mktemp -d "$cache/.tmp-node-XXXXXX")
chmod 0755 "$tmp"
cp -a --reflink=auto "$base_dir" "$tmp/rootfs"
log "copied the base in $(elapsed "$t")"
"$here/rootfs-configure.sh" "$tmp" "$kubelet_src" "$here/rootfs" || die "the configure step failed (see above)"
mv -T "$tmp" "$node_dir"
tmp=
log "node rootfs configured in $(elapsed "$t")"

prune_old "$node_dir" "$base_dir"
log "done in $(elapsed "$t_all")"
echo "$node_dir"
