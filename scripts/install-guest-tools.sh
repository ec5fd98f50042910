#!/usr/bin/env bash
# Installs what the real-guest tests need, idempotently: the Debian packages of scripts/debian-packages.txt, and the
# i386 packages of scripts/debian-i386-packages.txt downloaded (not installed) and unpacked under .guests/root/.
# Exits non-zero only when something could not be had; tests that need it then say they skipped.
set -uo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
GUESTS="$ROOT/.guests"
status=0
names() { grep -v '^\s*#' "$1" | grep -v '^\s*$'; }

missing=()
for p in $(names "$ROOT/scripts/debian-packages.txt"); do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "install-guest-tools: apt-get install ${missing[*]}"
  apt-get update -qq >/dev/null 2>&1
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1 \
    || { echo "install-guest-tools: apt-get install failed" >&2; status=1; }
fi

i386=$(names "$ROOT/scripts/debian-i386-packages.txt")
if [ -n "$i386" ]; then
  mkdir -p "$GUESTS/debs" "$GUESTS/root"
  if ! dpkg --print-foreign-architectures | grep -qx i386; then
    dpkg --add-architecture i386 && apt-get update -qq >/dev/null 2>&1
  fi
  for p in $i386; do
    dir="$GUESTS/root/${p%%:*}"
    [ -d "$dir" ] && continue
    (cd "$GUESTS/debs" && apt-get download -qq "$p" >/dev/null 2>&1) || { echo "install-guest-tools: cannot download $p" >&2; status=1; continue; }
    deb=$(ls -t "$GUESTS/debs/${p%%:*}"_*.deb 2>/dev/null | head -n 1)
    mkdir -p "$dir.tmp" && dpkg-deb -x "$deb" "$dir.tmp" && mv "$dir.tmp" "$dir" || status=1
  done
fi
exit $status
