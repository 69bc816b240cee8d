#!/usr/bin/env bash
# Configure step of the control-plane node: on a copy of the sample node's rootfs, Debian's etcd-server and
# kubernetes-client (kubectl), kube-apiserver, kube-controller-manager and kubeadm built from the same v1.20.2
# tree, their units, and the cluster's certificate authorities, made once here by kubeadm. The certificates
# that name the node's address are made at boot (krd-control-plane-certs). The sample kubelet is disabled:
# this node is no Kubernetes node, only the control plane.
# Usage: configure-control-plane.sh ROOTFS CONTROL_PLANE_BUILD_DIR FILES_DIR
set -euo pipefail

root=$1
build=$2
files=$3
log_prefix=build-control-plane-rootfs
here=$(dirname "${BASH_SOURCE[0]}")
source "$here/../lib.sh"
source "$here/versions.sh"
enter_rootfs "$root"

# --- etcd-server and kubectl from Debian, offline. policy-rc.d keeps etcd's maintainer script from starting
# the SysV etcd in the chroot, that is in the host's network.
install -d "$root/tmp/debs"
cp "$build"/debs/*.deb "$root/tmp/debs/"
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 0755 "$root/usr/sbin/policy-rc.d"
in_root /bin/sh -c 'DEBIAN_FRONTEND=noninteractive dpkg -i /tmp/debs/*.deb' >&2
rm -rf "$root/tmp/debs" "$root/usr/sbin/policy-rc.d"

for binary in kube-apiserver kube-controller-manager kubeadm; do
  install -m 0755 "$build/$binary" "$root/usr/bin/$binary"
done
(cd "$files" && find . -type f -printf '%P\n') | while read -r f; do
  mode=0644
  [[ -x $files/$f ]] && mode=0755
  install -D -o root -g root -m "$mode" "$files/$f" "$root/$f"
done

# --- The CAs (cluster, etcd, front proxy) and the service-account key pair: the same for every node booted
# from this rootfs, so tests may make more credentials from them. The advertise address only satisfies
# kubeadm's defaulting (no default route in the chroot, and it refuses loopback); nothing made here names it.
cat >"$root/tmp/kubeadm-ca.yaml" <<YAML
apiVersion: kubeadm.k8s.io/v1beta2
kind: InitConfiguration
localAPIEndpoint:
  advertiseAddress: 10.213.0.2
---
apiVersion: kubeadm.k8s.io/v1beta2
kind: ClusterConfiguration
kubernetesVersion: v$KRD_K8S_VERSION
YAML
for phase in ca etcd-ca front-proxy-ca; do
  in_root kubeadm init phase certs "$phase" --config /tmp/kubeadm-ca.yaml >&2
done
in_root kubeadm init phase certs sa >&2
rm "$root/tmp/kubeadm-ca.yaml"

in_root systemctl disable kubelet >&2
in_root systemctl enable krd-control-plane-certs etcd kube-apiserver kube-controller-manager >&2
log "control-plane node configured: $(in_root kube-apiserver --version), etcd $(in_root etcd --version | awk 'NR == 1 { print $3 }'), kubectl $(in_root kubectl version --client --short 2>/dev/null | awk '{ print $3 }')"
