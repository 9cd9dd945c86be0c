#!/usr/bin/env bash
# Runs every C test binary (build/tests/test_*) and then every scripted suite (tests/t_*.sh,
# in name order). Prints a summary; exits non-zero if anything failed.
set -u
BUILD=${1:-build}
MODE=${2:-all}
cd "$(dirname "$0")/.."
# Shared test material (real model, tokenizer vectors): $CHORD_SHARED, else ../shared next to the
# repository, else /work/shared (where this workplace keeps it). Suites skip when it is absent.
if [ -z "${CHORD_SHARED:-}" ]; then
    for d in ../shared /work/shared; do
        if [ -d "$d/vocab" ]; then CHORD_SHARED=$(cd "$d" && pwd); break; fi
    done
fi
if [ -n "${CHORD_SHARED:-}" ]; then export CHORD_SHARED; echo "shared test material: $CHORD_SHARED"
else echo "shared test material: NOT FOUND (../shared, /work/shared): suites that need it will SKIP"; fi
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
