#!/usr/bin/env bash
# Fetches the real Kubernetes tree (Debian bookworm's `kubernetes` source package, v1.20.2 with vendor/)
# into the harness cache and prints the tree's path on stdout. Reruns print the cached path at once.
# Needs root the first time: it adds a deb-src line for the machine's own Debian mirror and runs apt-get.
set -euo pipefail

here=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
log_prefix=kubernetes-source
source "$here/../lib.sh"
source "$here/versions.sh"

cache=${KRD_CACHE_DIR:-/var/cache/kubelet-remote-debug}
dest=$cache/k8s-$KRD_K8S_DEB_VERSION/src
if [[ -f $dest/.complete ]]; then
  echo "$dest"
  exit 0
fi

mkdir -p "$cache"
exec 9>"$cache/.k8s-source.lock"
flock 9
if [[ -f $dest/.complete ]]; then
  echo "$dest"
  exit 0
fi
[[ $EUID -eq 0 ]] || die "fetching the Kubernetes source needs root the first time (apt-get)"

# apt needs a deb-src line. A plain one would clash with the Signed-By of the machine's debian.sources,
# so it names the same keyring, and the same mirror that the machine's deb lines use.
sources=/etc/apt/sources.list.d/krd-deb-src.sources
if ! apt-get source --print-uris --download-only "kubernetes=$KRD_K8S_DEB_VERSION" >/dev/null 2>&1; then
  mirror=$("$here/../debian-mirror.sh") || die "no Debian mirror found in the machine's apt sources"
  log "adding a deb-src line for $mirror ($sources)"
  cat >"$sources" <<SRC
# Added by kubelet-remote-debug's test harness: the real Kubernetes source comes from Debian's package.
Types: deb-src
URIs: $mirror
Suites: bookworm
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  apt-get update -q >&2 || log "apt-get update reported errors; trying anyway"
fi

t=$EPOCHREALTIME
work=$(mktemp -d "$cache/.tmp-k8s-src-XXXXXX")
trap 'rm -rf "$work"' EXIT
(cd "$work" && apt-get source -q --download-only "kubernetes=$KRD_K8S_DEB_VERSION" >&2) ||
  die "apt-get source kubernetes=$KRD_K8S_DEB_VERSION failed (is Debian's mirror reachable?)"
orig=$(ls "$work"/kubernetes_*.orig.tar.* 2>/dev/null | head -n 1)
[[ -n $orig ]] || die "no .orig tarball among: $(ls "$work")"
mkdir "$work/x"
tar -C "$work/x" -xf "$orig"
top=$(ls "$work/x")
[[ $(wc -l <<<"$top") == 1 && -f $work/x/$top/hack/lib/golang.sh ]] || die "unexpected layout in $orig: $top"
rm -rf "$dest"
mkdir -p "$(dirname "$dest")"
mv -T "$work/x/$top" "$dest"
touch "$dest/.complete"
log "Kubernetes $KRD_K8S_VERSION source in $dest in $(elapsed "$t")"
echo "$dest"
