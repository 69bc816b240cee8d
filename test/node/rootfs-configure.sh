#!/usr/bin/env bash
# Configure step of the test node rootfs, run by build-rootfs.sh on a fresh copy of the base:
# SSH users and keys, networkd, the sample kubelet built with the node's own Go, and kubeadm-style files.
# Usage: rootfs-configure.sh OUT_DIR KUBELET_SRC FILES_DIR   (OUT_DIR/rootfs is the copy to configure)
set -euo pipefail

out=$1
kubelet_src=$2
files=$3
root=$out/rootfs
src_on_node=/root/src/k8s.io/kubernetes

log_prefix=build-rootfs
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# Go and make need /proc and /dev in the chroot; they are unmounted on every exit path.
enter_rootfs "$root"

# --- Files kept in test/node/rootfs/, at their paths on the node (install -D follows /lib -> usr/lib).
(cd "$files" && find . -type f -printf '%P\n') | while read -r f; do
  mode=0644
  [[ -x $files/$f ]] && mode=0755
  install -D -o root -g root -m "$mode" "$files/$f" "$root/$f"
done
chmod 0440 "$root"/etc/sudoers.d/*
in_root visudo -c -q

# --- Identity: nspawn sets the hostname from --machine, so the node must not carry the build host's.
rm -f "$root/etc/hostname"
# The node has no resolver; an empty resolv.conf makes lookups fail at once instead of timing out.
echo '# The test node has no DNS.' >"$root/etc/resolv.conf"

# --- SSH: one client key for every user; kubeadmin has password-less sudo, needpw's sudo needs a password.
mkdir -p "$out/client"
ssh-keygen -q -t ed25519 -N '' -C krd-test-client -f "$out/client/id_ed25519"
chmod 0600 "$out/client/id_ed25519"
in_root useradd --create-home --shell /bin/bash kubeadmin
in_root useradd --create-home --shell /bin/bash --groups sudo needpw # Debian's %sudo rule asks for the password
password=$(head -c 24 /dev/urandom | base64 | tr -d '+/=')
printf 'needpw:%s\n' "$password" | in_root chpasswd
(umask 077 && printf '%s\n' "$password" >"$out/client/needpw.password")
for user in root kubeadmin needpw; do
  home=$(in_root getent passwd "$user" | cut -d: -f6)
  install -d -m 0700 "$root$home/.ssh"
  install -m 0600 "$out/client/id_ed25519.pub" "$root$home/.ssh/authorized_keys"
  in_root chown -R "$user:" "$home/.ssh"
done
in_root ssh-keygen -A
cp "$root/etc/ssh/ssh_host_ed25519_key.pub" "$out/host_ed25519.pub"

# --- A real (self-signed) kubelet client certificate with fixed dates, stored the way kubeadm does:
# cert and key in one dated file, and kubelet-client-current.pem linking to it.
pki=/var/lib/kubelet/pki
dated=$pki/kubelet-client-2025-01-01-00-00-00.pem
work=$(in_root mktemp -d)
cat >"$root$work/ca.cnf" <<EOF
[ca]
default_ca = fake
[fake]
database = $work/index.txt
new_certs_dir = $work
serial = $work/serial
default_md = sha256
policy = any
unique_subject = no
x509_extensions = client
[any]
organizationName = supplied
commonName = supplied
[client]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
EOF
: >"$root$work/index.txt"
echo 01 >"$root$work/serial"
in_root openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -batch \
  -subj /O=system:nodes/CN=system:node:krd-node -keyout "$work/key.pem" -out "$work/req.csr" 2>/dev/null
in_root openssl ca -batch -notext -config "$work/ca.cnf" -selfsign -keyfile "$work/key.pem" -in "$work/req.csr" \
  -startdate 20250101000000Z -enddate 20350101000000Z -out "$work/cert.pem" 2>/dev/null
install -d -m 0700 "$root$pki"
(umask 077 && cat "$root$work/cert.pem" "$root$work/key.pem" >"$root$dated")
ln -sfn "$dated" "$root$pki/kubelet-client-current.pem"
rm -rf "${root:?}$work"

# --- The sample kubelet, built on the node's own Go so /root/.cache/go-build is warm for later debug
# builds on the node (the DBG=1 build caches the -N -l standard library too).
t=$EPOCHREALTIME
install -d "$root$src_on_node"
tar -C "$kubelet_src" --exclude=./_output --owner=0 --group=0 -cf - . | tar -C "$root$src_on_node" -xf -
build() { in_root GOPROXY=off GOFLAGS=-buildvcs=false make -C "$src_on_node" "$@" >&2; }
build WHAT=cmd/kubelet
arch=$(in_root go env GOARCH)
install -m 0755 "$root$src_on_node/_output/local/bin/linux/$arch/kubelet" "$root/usr/bin/kubelet"
build WHAT=cmd/kubelet DBG=1
build clean
log "sample kubelet built in the rootfs in $(elapsed "$t")"

in_root systemctl enable systemd-networkd ssh kubelet
