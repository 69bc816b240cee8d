#!/usr/bin/env bash
# Builds, once, everything the real-kubelet node and the real-kubelet tests need from the real Kubernetes
# tree, and prints the output folder on stdout. Reruns with nothing changed print it at once.
#   kubelet-release    `make WHAT=cmd/kubelet DBG=1`: what that command gives in a v1.20 tree (stripped, -s -w)
#   kubelet-optimised  GOLDFLAGS="": DWARF kept, but compiled with optimisations (no -N -l)
#   kubelet-debug      GOLDFLAGS="" GOGCFLAGS="all=-N -l": the build Delve can debug well (about 153 MB)
#   pause, ticker      static programs for the node's pod: the sandbox (from the tree's build/pause) and an app
#   images/*.tar       both packed as one-layer docker archives for `ctr images import` (there is no registry)
#   debs/*.deb         Debian's containerd and runc, installed into the node's rootfs offline
# The tree keeps the debug build in _output/ afterwards, as a developer's tree would after a debug build.
set -euo pipefail

here=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
log_prefix=build-kubernetes
source "$here/../lib.sh"
source "$here/versions.sh"

cache=${KRD_CACHE_DIR:-/var/cache/kubelet-remote-debug}
src=$("$here/kubernetes-source.sh")
command -v go >/dev/null || die "go is missing: apt-get install -y golang-go"
for tool in gcc rsync jq file; do command -v "$tool" >/dev/null || die "$tool is missing (the Kubernetes build needs it): run npm run setup"; done
key=$( { cat "$here/build-kubernetes.sh" "$here/versions.sh"; go version; } | sha256sum | cut -c1-16)
out=$cache/k8s-$KRD_K8S_DEB_VERSION/build-$key
if [[ -f $out/.complete ]]; then
  echo "$out"
  exit 0
fi

exec 9>"$cache/.k8s-build.lock"
flock -n 9 || { log "waiting for another build of Kubernetes"; flock 9; }
if [[ -f $out/.complete ]]; then
  echo "$out"
  exit 0
fi
rm -rf "$out"
mkdir -p "$out/images" "$out/debs"
t_all=$EPOCHREALTIME
log_file=$out/build.log
# No module downloads: the tree vendors everything, and this machine reaches no Go proxy anyway.
export GOPROXY=off GOFLAGS=-buildvcs=false GOCACHE=$cache/go-build
arch=$(go env GOARCH)

make_kubelet() {
  local name=$1 t=$EPOCHREALTIME
  shift
  log "make WHAT=cmd/kubelet $* ($name)"
  make -C "$src" WHAT=cmd/kubelet "$@" >>"$log_file" 2>&1 ||
    die "the $name build failed; last lines of $log_file:$(printf '\n'; tail -n 30 "$log_file")"
  cp "$src/_output/local/bin/linux/$arch/kubelet" "$out/kubelet-$name"
  log "$name kubelet built in $(elapsed "$t"): $(du -h "$out/kubelet-$name" | cut -f1), $(file -b "$out/kubelet-$name" | grep -o 'not stripped\|stripped')"
}
# The release build also generates code and builds the generators; the other two then only recompile or relink.
make_kubelet release DBG=1
make_kubelet optimised GOLDFLAGS=
make_kubelet debug GOLDFLAGS= 'GOGCFLAGS=all=-N -l'

# --- The pod's programs. pause is the tree's own; the ticker prints a line a second, so a running
# container is visible in its log.
gcc -Os -Wall -static -DVERSION="v3.2-krd" -o "$out/pause" "$src/build/pause/linux/pause.c"
cat >"$out/ticker.c" <<'C'
#include <stdio.h>
#include <unistd.h>
int main(void) {
  for (unsigned long n = 0;; n++) { printf("tick %lu\n", n); fflush(stdout); sleep(1); }
}
C
gcc -Os -Wall -static -o "$out/ticker" "$out/ticker.c"

# A docker archive with one layer holding one program at /NAME, run as the entrypoint.
pack_image() {
  local name=$1 tag=$2 dir
  dir=$(mktemp -d)
  mkdir "$dir/layer"
  install -m 0755 "$out/$name" "$dir/layer/$name"
  tar -C "$dir/layer" --owner=0 --group=0 --mtime=@0 -cf "$dir/layer.tar" "$name"
  local diff_id config_id
  diff_id=sha256:$(sha256sum <"$dir/layer.tar" | cut -d' ' -f1)
  printf '{"architecture":"%s","os":"linux","config":{"Entrypoint":["/%s"]},"rootfs":{"type":"layers","diff_ids":["%s"]}}' \
    "$arch" "$name" "$diff_id" >"$dir/config.json"
  config_id=$(sha256sum <"$dir/config.json" | cut -d' ' -f1)
  mv "$dir/config.json" "$dir/$config_id.json"
  printf '[{"Config":"%s.json","RepoTags":["%s"],"Layers":["layer.tar"]}]' "$config_id" "$tag" >"$dir/manifest.json"
  tar -C "$dir" --owner=0 --group=0 --mtime=@0 -cf "$out/images/$name.tar" manifest.json "$config_id.json" layer.tar
  rm -rf "$dir"
}
pack_image pause k8s.gcr.io/pause:3.2
pack_image ticker krd.local/ticker:1

(cd "$out/debs" && apt-get download -q containerd runc >>"$log_file" 2>&1) ||
  die "apt-get download containerd runc failed; see $log_file"

touch "$out/.complete"
log "done in $(elapsed "$t_all"): $out"
echo "$out"
