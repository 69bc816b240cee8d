#!/usr/bin/env bash
# Builds and caches the control-plane node's root file system on top of the sample node's, and prints its
# folder on stdout (the same layout as build-rootfs.sh's: rootfs/, client/, host_ed25519.pub).
# control-plane-<hash>/ is keyed by the sample node's folder, the control-plane build and this step's files.
set -euo pipefail

here=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
log_prefix=build-control-plane-rootfs
source "$here/../lib.sh"

cache=${KRD_CACHE_DIR:-/var/cache/kubelet-remote-debug}
node_dir=$("$here/../build-rootfs.sh")
build=$("$here/build-control-plane.sh")
files=$here/control-plane/rootfs
key=$(
  {
    basename "$node_dir"
    basename "$build"
    cat "$here/configure-control-plane.sh" "$here/build-control-plane-rootfs.sh" "$here/versions.sh" "$here/../lib.sh"
    (cd "$files" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum && find . -printf '%p %m\n' | LC_ALL=C sort)
  } | sha256sum | cut -c1-16
)
cp_dir=$cache/control-plane-$key
if [[ -d $cp_dir ]]; then
  echo "$cp_dir"
  exit 0
fi

exec 9>"$cache/.rootfs.lock"
flock 9
if [[ -d $cp_dir ]]; then
  echo "$cp_dir"
  exit 0
fi
t=$EPOCHREALTIME
tmp=$(mktemp -d "$cache/.tmp-control-plane-XXXXXX")
trap 'rm -rf --one-file-system "$tmp"' EXIT
chmod 0755 "$tmp"
cp -a --reflink=auto "$node_dir/rootfs" "$tmp/rootfs"
cp -a "$node_dir/client" "$node_dir/host_ed25519.pub" "$tmp/"
"$here/configure-control-plane.sh" "$tmp/rootfs" "$build" "$files" || die "the control-plane node's configure step failed (see above)"
mv -T "$tmp" "$cp_dir"
trap - EXIT
# Older control-plane-* folders whose node no longer runs are dropped (in-use markers as in build-rootfs.sh).
for old in "$cache"/control-plane-*/; do
  old=${old%/}
  [[ $old == "$cp_dir" ]] && continue
  grep -qsF " $old" "$cache"/in-use/* && continue
  rm -rf --one-file-system "$old"
done
log "control-plane node rootfs built in $(elapsed "$t"): $cp_dir"
echo "$cp_dir"
