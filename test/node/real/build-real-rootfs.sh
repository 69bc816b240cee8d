#!/usr/bin/env bash
# Builds and caches the root file system of a real Kubernetes node on top of the sample node's, and prints its
# folder on stdout (the same layout as build-rootfs.sh's: rootfs/, client/, host_ed25519.pub).
# Usage: build-real-rootfs.sh [real|control-plane]
#   real           the real-kubelet worker (default): build-kubernetes.sh, configure-real.sh, rootfs/
#   control-plane  etcd, kube-apiserver, kube-controller-manager: build-control-plane.sh,
#                  configure-control-plane.sh, control-plane/rootfs/
# KIND-<hash>/ is keyed by the sample node's folder, the build's folder and that kind's scripts and files.
set -euo pipefail

here=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
kind=${1:-real}
log_prefix=build-$kind-rootfs
source "$here/../lib.sh"

cache=${KRD_CACHE_DIR:-/var/cache/kubelet-remote-debug}
node_dir=$("$here/../build-rootfs.sh")
case $kind in
  real) build=$("$here/build-kubernetes.sh") configure=$here/configure-real.sh files=$here/rootfs ;;
  control-plane) build=$("$here/build-control-plane.sh") configure=$here/configure-control-plane.sh files=$here/control-plane/rootfs ;;
  *) die "usage: build-real-rootfs.sh [real|control-plane]" ;;
esac
key=$(
  {
    basename "$node_dir"
    basename "$build"
    cat "$configure" "$here/build-real-rootfs.sh" "$here/versions.sh" "$here/../lib.sh"
    (cd "$files" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum && find . -printf '%p %m\n' | LC_ALL=C sort)
  } | sha256sum | cut -c1-16
)
out=$cache/$kind-$key
if [[ -d $out ]]; then
  echo "$out"
  exit 0
fi

exec 9>"$cache/.rootfs.lock"
flock 9
if [[ -d $out ]]; then
  echo "$out"
  exit 0
fi
t=$EPOCHREALTIME
tmp=$(mktemp -d "$cache/.tmp-$kind-XXXXXX")
trap 'rm -rf --one-file-system "$tmp"' EXIT
chmod 0755 "$tmp"
cp -a --reflink=auto "$node_dir/rootfs" "$tmp/rootfs"
cp -a "$node_dir/client" "$node_dir/host_ed25519.pub" "$tmp/"
"$configure" "$tmp/rootfs" "$build" "$files" || die "the $kind node's configure step failed (see above)"
mv -T "$tmp" "$out"
trap - EXIT
# Older folders of this kind whose node no longer runs are dropped (in-use markers as in build-rootfs.sh).
for old in "$cache/$kind"-*/; do
  old=${old%/}
  [[ $old == "$out" ]] && continue
  grep -qsF " $old" "$cache"/in-use/* && continue
  rm -rf --one-file-system "$old"
done
log "$kind node rootfs built in $(elapsed "$t"): $out"
echo "$out"
