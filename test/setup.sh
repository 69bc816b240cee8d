#!/usr/bin/env bash
# Installs everything the tests and the sandbox need on a fresh Debian 12 machine (run as root): Debian
# packages, npm packages, the VS Code server build, the real Kubernetes v1.20.2 kubelet and control-plane
# builds and the test nodes' root file systems (sample, real and control plane). Each step is skipped when already done, so running it
# again takes seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\n=== setup: %s\n' "$*"; }
started=$SECONDS

# debootstrap and systemd-nspawn boot the test node; OpenSSH is the baseline the tests compare with;
# Go builds the sample kubelet locally, and with gcc, rsync and jq the real Kubernetes tree; Chromium
# drives the VS Code server headless; libkrb5-dev is needed by code-server's native modules; openssl makes
# the test cluster's expired client certificate.
packages=(debootstrap systemd-container openssh-client iproute2 golang-go make gcc libc6-dev file rsync jq chromium libkrb5-dev ca-certificates openssl)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]} > 0)); then
  say "installing Debian packages: ${missing[*]}"
  # Some machines list apt sources that cannot be reached here; the Debian mirror is what matters.
  apt-get update -q || echo "setup: apt-get update reported errors; trying to install anyway"
  # --no-install-recommends keeps libnss-mymachines out; it would edit the host's nsswitch.conf.
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

say "npm packages"
if [[ ! -d node_modules || package-lock.json -nt node_modules/.package-lock.json ]]; then
  npm ci --no-audit --no-fund
fi

say "VS Code server, the real Kubernetes v1.20.2 builds, and the test nodes' root file systems"
# All cached under /var/cache/kubelet-remote-debug, keyed by what goes into them. On a fresh machine the
# Kubernetes build is the long pole (about 12 minutes on 2 cores); the others run beside it.
test/vscode/install-vscode.sh >/dev/null &
vscode_pid=$!
# The control plane's binaries come second: they reuse the kubelet build's compiled packages (about 4
# minutes more on 2 cores), and both builds share the tree, so they never run at once.
(test/node/real/build-kubernetes.sh && test/node/real/build-control-plane.sh) >/dev/null &
kubernetes_pid=$!
test/node/build-rootfs.sh >/dev/null
wait "$kubernetes_pid"
test/node/real/build-real-rootfs.sh >/dev/null
test/node/real/build-real-rootfs.sh control-plane >/dev/null
wait "$vscode_pid"

say "done in $((SECONDS - started)) s"
