#!/usr/bin/env bash
# Configure step of the real-kubelet node: on a copy of the sample node's rootfs, Debian's containerd and
# runc (and the CNI plugins), the real v1.20.2 kubelet (as `make WHAT=cmd/kubelet` builds it) as /usr/bin/kubelet, standalone
# kubelet settings, the pod's images and the units that prepare the container for them.
# Usage: configure-real.sh ROOTFS K8S_BUILD_DIR FILES_DIR DEBS_DIR (holding containernetworking-plugins)
set -euo pipefail

root=$1
build=$2
files=$3
debs=$4
log_prefix=build-real-rootfs
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
enter_rootfs "$root"

# --- containerd and runc from Debian, offline. Nothing starts here: the chroot has no running systemd.
install -d "$root/tmp/debs"
cp "$build"/debs/*.deb "$root/tmp/debs/"
in_root /bin/sh -c 'DEBIAN_FRONTEND=noninteractive dpkg -i /tmp/debs/*.deb' >&2
rm -rf "$root/tmp/debs"
# The CNI plugins only as files: the package depends on iptables, which the bridge without masquerading
# never calls, and the node has no other use for.
cni=$(mktemp -d)
dpkg-deb -x "$debs"/containernetworking-plugins_*.deb "$cni"
install -d "$root/usr/lib/cni"
install -m 0755 "$cni"/usr/lib/cni/* "$root/usr/lib/cni/"
rm -rf "$cni"

# --- The node's files; the sample node's static pod uses an image no registry here can serve.
rm -f "$root/etc/kubernetes/manifests/static-web.yaml"
(cd "$files" && find . -type f -printf '%P\n') | while read -r f; do
  mode=0644
  [[ -x $files/$f ]] && mode=0755
  install -D -o root -g root -m "$mode" "$files/$f" "$root/$f"
done

# --- The real kubelet, as the default build makes it: stripped and optimised, like a packaged one.
install -m 0755 "$build/kubelet-release" "$root/usr/bin/kubelet"
install -d "$root/var/lib/krd-images"
install -m 0644 "$build"/images/*.tar "$root/var/lib/krd-images/"

in_root systemctl enable containerd krd-node-prep krd-images krd-cluster-join kubelet >&2
log "real kubelet node configured: $(in_root /usr/bin/kubelet --version), containerd $(in_root containerd --version | awk '{ print $3 }')"
