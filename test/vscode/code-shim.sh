#!/usr/bin/env bash
# Stands in for the VS Code executable in @vscode/test-electron's runTests({ vscodeExecutablePath }).
# It runs code-shim.mjs with the Node on PATH (the project's Node 20); the VS Code server itself
# runs on the cached Node 24. KRD_SHIM_NODE overrides the Node used here.
exec "${KRD_SHIM_NODE:-node}" "$(dirname "$(readlink -f "$0")")/code-shim.mjs" "$@"
