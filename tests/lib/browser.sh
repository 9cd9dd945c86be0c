# tests/lib/browser.sh — sourced by the Chromium suites (t_browser*.sh, t_memory64.sh,
# t_stores.sh): Debian's /usr/bin/chromium driven by playwright-core (never a downloaded
# browser). Both are installed by scripts/setup.sh, so their absence is a failure, not a skip.
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
export CHROMIUM
[ -x "$CHROMIUM" ] || { echo "FAIL: $CHROMIUM not installed (scripts/setup.sh installs it)"; exit 1; }
[ -d node_modules/playwright-core ] || { echo "FAIL: node_modules/playwright-core missing (scripts/setup.sh)"; exit 1; }
