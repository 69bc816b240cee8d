#!/usr/bin/env bash
# Prints the Debian mirror this machine's apt already uses (deb822 sources first, then sources.list), so the
# harness never names a mirror of its own. Exits 1 when there is none.
set -euo pipefail
suite=${1:-bookworm}
for f in /etc/apt/sources.list.d/*.sources; do
  [[ -f $f ]] || continue
  uri=$(awk -v suite="$suite" '
    function flush() {
      if (deb && uri != "" && (want || (fallback == "" && plain))) { if (want) { print uri; done = 1; exit } fallback = uri }
      deb = 0; want = 0; plain = 0; uri = ""
    }
    /^[[:space:]]*$/ { flush(); next }
    /^[[:space:]]*#/ { next }
    tolower($1) == "types:"  { for (i = 2; i <= NF; i++) if ($i == "deb") deb = 1 }
    tolower($1) == "uris:"   { uri = $2 }
    tolower($1) == "suites:" { for (i = 2; i <= NF; i++) { if ($i == suite) want = 1; if ($i !~ /-/) plain = 1 } }
    END { if (!done) { flush(); if (!done && fallback != "") print fallback } }' "$f")
  [[ -n $uri ]] && { echo "$uri"; exit 0; }
done
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
  [[ -f $f ]] || continue
  uri=$(awk '$1 == "deb" { i = 2; if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ } if ($(i + 1) !~ /-/) { print $i; exit } }' "$f")
  [[ -n $uri ]] && { echo "$uri"; exit 0; }
done
exit 1
