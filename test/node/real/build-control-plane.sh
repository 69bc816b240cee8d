#!/usr/bin/env bash
# Builds, once, what the control-plane test node needs from the real Kubernetes tree, and prints the output
# folder on stdout. Reruns with nothing changed print it at once.
#   kube-apiserver, kube-controller-manager, kubeadm   `make WHAT=...` release builds (stripped, optimised)
#   debs/*.deb   Debian's etcd-server (3.4.23) and kubernetes-client (kubectl, the same v1.20.2 source)
#   kubectl      kubernetes-client's kubectl unpacked, for the host side of the tests: a host may have another
#                kubectl package owning /usr/bin/kubectl (Google's conflicts with Debian's)
# Kept apart from build-kubernetes.sh so the kubelet builds (and the real node's rootfs keyed by them) stay
# cached when only this changes. Both share the tree and its GOCACHE (_output/local/go/cache), so the same
# lock serialises their `make` runs.
set -euo pipefail

here=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
log_prefix=build-control-plane
source "$here/../lib.sh"
source "$here/versions.sh"

cache=${KRD_CACHE_DIR:-/var/cache/kubelet-remote-debug}
src=$("$here/kubernetes-source.sh")
command -v go >/dev/null || die "go is missing: apt-get install -y golang-go"
for tool in gcc rsync jq; do command -v "$tool" >/dev/null || die "$tool is missing (the Kubernetes build needs it): run npm run setup"; done
key=$( { cat "$here/build-control-plane.sh" "$here/versions.sh"; go version; } | sha256sum | cut -c1-16)
out=$cache/k8s-$KRD_K8S_DEB_VERSION/control-plane-$key
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
mkdir -p "$out/debs"
t_all=$EPOCHREALTIME
log_file=$out/build.log
export GOPROXY=off GOFLAGS=-buildvcs=false
arch=$(go env GOARCH)

# v1.20 builds these three with CGO_ENABLED=0. That changes the build ID of `net` and so of nearly every
# package above it, and the kubelet's compiled packages in the tree's GOCACHE would not be reused. Built
# with cgo like the kubelet, a cold build of all three took minutes instead of a kubelet-sized rebuild;
# the node is the same Debian, so linking against its glibc costs nothing.
binaries=(kube-apiserver kube-controller-manager kubeadm)
what=$(printf 'cmd/%s ' "${binaries[@]}")
log "make WHAT='${what% }' (release builds)"
make -C "$src" WHAT="${what% }" KUBE_CGO_OVERRIDES="${binaries[*]}" >>"$log_file" 2>&1 ||
  die "the control-plane build failed; last lines of $log_file:$(printf '\n'; tail -n 30 "$log_file")"
for binary in "${binaries[@]}"; do
  cp "$src/_output/local/bin/linux/$arch/$binary" "$out/$binary"
  log "$binary: $(du -h "$out/$binary" | cut -f1)"
done

(cd "$out/debs" && apt-get download -q etcd-server kubernetes-client >>"$log_file" 2>&1) ||
  die "apt-get download etcd-server kubernetes-client failed; see $log_file"
unpacked=$(mktemp -d)
dpkg-deb -x "$out"/debs/kubernetes-client_*.deb "$unpacked"
install -m 0755 "$unpacked/usr/bin/kubectl" "$out/kubectl"
rm -rf "$unpacked"

touch "$out/.complete"
log "done in $(elapsed "$t_all"): $out"
echo "$out"
