#!/usr/bin/env bash
# One-time set-up on a fresh Debian 12: apt packages (compilers, wasm toolchain, chromium) and
# npm packages (reference llama.cpp, playwright-core, wllama). Does nothing when all is present.
set -euo pipefail
cd "$(dirname "$0")/.."

# python3-jinja2: chat-template reference; libmicrohttpd/libcjson: the HTTP server; libedit: the
# chat REPL; nginx: the scale-out test; tmux: the REPL test.
APT_PKGS="gcc make unicode-data clang-19 lld-19 wasi-libc libclang-rt-19-dev libclang-rt-19-dev-wasm32 libclang-rt-19-dev-wasm64 chromium nodejs python3-jinja2 libmicrohttpd-dev libcjson-dev libedit-dev nginx tmux"
missing=""
for p in $APT_PKGS; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
    echo "setup: installing apt packages:$missing"
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq || true
    $SUDO apt-get install -y -qq $missing >/dev/null
fi

# npm dev packages at the root (reference llama.cpp prebuilt, browser driver, wllama). Scripts
# are never run: node-llama-cpp must not download or build anything. (`npm ci` rejects this
# lock file because of the platform-specific optional packages it omits; `install` honours it.)
if [ ! -f node_modules/.chord-setup-done ] || [ package-lock.json -nt node_modules/.chord-setup-done ]; then
    echo "setup: npm install (dev packages)"
    npm install --ignore-scripts --omit=optional --no-audit --no-fund --loglevel=error
    touch node_modules/.chord-setup-done
fi
