#!/usr/bin/env bash
# t_browser_chat.sh — the demo page chats two turns in headless Chromium (Debian's
# /usr/bin/chromium via playwright-core) with a ChatML-template model; the prompt it sends equals
# Python jinja2's rendering and the answers the native CLI's. See tests/browser/chat.mjs.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
. tests/lib/browser.sh
make -s BUILD="$BUILD" wasm >/dev/null || { echo "FAIL: make wasm"; exit 1; }
export BUILD
timeout 240 node tests/browser/chat.mjs
