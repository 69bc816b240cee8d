#!/usr/bin/env bash
# Builds the real v1.20.2 debug kubelet twice as `make WHAT=cmd/kubelet GOLDFLAGS="" GOGCFLAGS="all=-N -l"`
# would (same flags, same build cache), once as the tree is and once after a one-line edit in syncLoop,
# without touching the shared tree: the edit goes in through `go build -overlay`.
# Usage: bench/editedKubelet.sh SRC OUT_DIR  → OUT_DIR/kubelet-before, OUT_DIR/kubelet-after
set -euo pipefail
src=$(readlink -f "$1") out=$2
mkdir -p "$out"
gopath=$src/_output/local/go
pkg=$gopath/src/k8s.io/kubernetes
[[ -d $pkg/pkg/kubelet ]] || { echo "no GOPATH tree at $pkg: build the real kubelet first (npm run setup)" >&2; exit 1; }
# The one-line edit: a log line at the top of syncLoop, as a developer adding a trace would.
marker='klog.Info("Starting kubelet main sync loop.")'
grep -qF "$marker" "$src/pkg/kubelet/kubelet.go" || { echo "syncLoop's first line is not in $src/pkg/kubelet/kubelet.go" >&2; exit 1; }
sed "s|^\(\t\)$(printf '%s' "$marker" | sed 's/[.[\*^$/]/\\&/g')\$|&\n\1klog.Info(\"krd bench: one-line edit\")|" \
  "$src/pkg/kubelet/kubelet.go" >"$out/kubelet.go"
[[ $(wc -l <"$out/kubelet.go") -eq $(($(wc -l <"$src/pkg/kubelet/kubelet.go") + 1)) ]] || { echo "the edit did not apply" >&2; exit 1; }
printf '{"Replace":{"%s":"%s"}}\n' "$pkg/pkg/kubelet/kubelet.go" "$(readlink -f "$out/kubelet.go")" >"$out/overlay.json"
ldflags() {
  local date=$1 l=''
  for p in client-go/pkg/version component-base/version; do
    l+=" -X 'k8s.io/kubernetes/vendor/k8s.io/$p.buildDate=$date'"
  done
  for kv in gitCommit=faecb196815e248d3ecfb03c680a4507229c2a56 gitTreeState=archive gitVersion=v1.20.2 gitMajor=1 gitMinor=20; do
    for p in client-go/pkg/version component-base/version; do l+=" -X 'k8s.io/kubernetes/vendor/k8s.io/$p.$kv'"; done
  done
  echo "$l"
}
build() {
  local dest=$1
  shift
  (cd "$pkg" && GOPATH=$gopath GOCACHE=$gopath/cache GO111MODULE=off GOPROXY=off GOFLAGS=-buildvcs=false \
    go build -o "$dest" -gcflags="all=-N -l -trimpath=$src" -asmflags="-trimpath=$src" -tags=selinux,notest \
    -ldflags="$(ldflags "$(date -u +%Y-%m-%dT%H:%M:%SZ)")" "$@" ./cmd/kubelet)
}
t=$(date +%s.%N)
build "$out/kubelet-before"
echo "before-seconds=$(echo "$(date +%s.%N) - $t" | bc -l)"
t=$(date +%s.%N)
build "$out/kubelet-after" -overlay="$out/overlay.json"
echo "after-seconds=$(echo "$(date +%s.%N) - $t" | bc -l)"
