#!/usr/bin/env bash
# Base step of the test node rootfs: a plain debootstrap with the packages the node needs.
# build-rootfs.sh keys the cached result by a hash of this file, so any edit here rebuilds the base.
# Usage: rootfs-base.sh TARGET_DIR MIRROR
set -euo pipefail

target=$1
mirror=$2
suite=bookworm
packages=(
  systemd systemd-sysv dbus libnss-myhostname   # the init under test; myhostname so sudo resolves the node's name offline
  openssh-server sudo                            # how the extension reaches the node
  golang-go delve make                           # node-side debug builds and Delve
  iproute2 procps ca-certificates less           # the basics a real node has
)

debootstrap --variant=minbase --include="$(IFS=,; echo "${packages[*]}")" "$suite" "$target" "$mirror"
# The downloaded .debs are ~200 MB that no node ever needs.
rm -f "$target"/var/cache/apt/archives/*.deb
