#!/usr/bin/env bash
# Builds and caches the real-kubelet node's root file system on top of the sample node's, and prints its
# folder on stdout (the same layout as build-rootfs.sh's: rootfs/, client/, host_ed25519.pub).
# real-<hash>/ is keyed by the sample node's folder, the Kubernetes build and this folder's scripts and files.
set -euo pipefail

here=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
log_prefix=build-real-rootfs
source "$here/../lib.sh"

cache=${KRD_CACHE_DIR:-/var/cache/kubelet-remote-debug}
node_dir=$("$here/../build-rootfs.sh")
build=$("$here/build-kubernetes.sh")
key=$(
  {
    basename "$node_dir"
    basename "$build"
    cat "$here/configure-real.sh" "$here/build-real-rootfs.sh" "$here/../lib.sh"
    (cd "$here/rootfs" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum && find . -printf '%p %m\n' | LC_ALL=C sort)
  } | sha256sum | cut -c1-16
)
real_dir=$cache/real-$key
if [[ -d $real_dir ]]; then
  echo "$real_dir"
  exit 0
fi

exec 9>"$cache/.rootfs.lock"
flock 9
if [[ -d $real_dir ]]; then
  echo "$real_dir"
  exit 0
fi
t=$EPOCHREALTIME
tmp=$(mktemp -d "$cache/.tmp-real-XXXXXX")
trap 'rm -rf --one-file-system "$tmp"' EXIT
chmod 0755 "$tmp"
cp -a --reflink=auto "$node_dir/rootfs" "$tmp/rootfs"
cp -a "$node_dir/client" "$node_dir/host_ed25519.pub" "$tmp/"
# The CNI plugins give the kubelet a ready pod network when the node joins a cluster (KRD_CONTROL_PLANE).
mkdir "$tmp/debs"
(cd "$tmp/debs" && apt-get download -q -o APT::Sandbox::User=root containernetworking-plugins >&2) || die "apt-get download containernetworking-plugins failed"
"$here/configure-real.sh" "$tmp/rootfs" "$build" "$here/rootfs" "$tmp/debs" || die "the real node's configure step failed (see above)"
rm -rf "$tmp/debs"
mv -T "$tmp" "$real_dir"
trap - EXIT
# Older real-* folders whose node no longer runs are dropped (in-use markers as in build-rootfs.sh).
for old in "$cache"/real-*/; do
  old=${old%/}
  [[ $old == "$real_dir" ]] && continue
  grep -qsF " $old" "$cache"/in-use/* && continue
  rm -rf --one-file-system "$old"
done
log "real node rootfs built in $(elapsed "$t"): $real_dir"
echo "$real_dir"
