#!/usr/bin/env bash
# Runs every C test binary (build/tests/test_*) and then every scripted suite (tests/t_*.sh,
# in name order). Prints a summary; exits non-zero if anything failed.
set -u
BUILD=${1:-build}
MODE=${2:-all}
cd "$(dirname "$0")/.."
pass=0; fail=0; failed=()
run() {
    local name=$1; shift
    local t0=$(date +%s)
    if "$@"; then pass=$((pass+1)); echo "PASS $name ($(( $(date +%s) - t0 ))s)";
    else fail=$((fail+1)); failed+=("$name"); echo "FAIL $name ($(( $(date +%s) - t0 ))s)"; fi
}
for t in "$BUILD"/tests/test_*; do
    [ -x "$t" ] || continue
    case "$t" in *.d|*.o) continue;; esac
    run "$(basename "$t")" "$t"
done
if [ "$MODE" != "--c-only" ]; then
    for s in tests/t_*.sh; do
        [ -f "$s" ] || continue
        run "$(basename "$s")" env BUILD="$BUILD" bash "$s"
    done
fi
echo "== $pass passed, $fail failed"
[ $fail -eq 0 ] || { printf '   failed: %s\n' "${failed[@]}"; exit 1; }
