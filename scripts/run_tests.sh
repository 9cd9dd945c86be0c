#!/usr/bin/env bash
# Runs every C test binary (build/tests/test_*) and then every scripted suite (tests/t_*.sh,
# in name order), or only the suites named by T (make test T="t_parity test_gguf"; the t_/test_
# prefix and .sh suffix may be left out). Prints a summary; exits non-zero if anything failed.
# A suite that prints a line starting with "SKIP" (a prerequisite is absent) and exits 0 is
# counted as skipped, not passed.
set -u
BUILD=${1:-build}
MODE=${2:-all}
ONLY=${T:-}
cd "$(dirname "$0")/.."
# Test material (the real model stories260K in models/, llama.cpp's tokenizer vocabularies and
# vectors in vocab/): in the repository itself, or $CHORD_SHARED (a folder with the same layout).
CHORD_SHARED=${CHORD_SHARED:-$(pwd)}
export CHORD_SHARED
echo "test material: $CHORD_SHARED"
# Free disk where the suites write ($BUILD, TMPDIR): a full disk shows up as write errors deep
# inside some suite (a CI run once failed 8 suites that way), so say it up front and again after
# any failure. About 4 GB is needed (the TinyLlama-shaped parity models alone are 1.7 GB).
disk_free() {
    local d
    for d in "$BUILD" "${TMPDIR:-/tmp}"; do mkdir -p "$d"; df -Pm "$d" | awk -v d="$d" 'NR == 2 { printf "%s: %d MB free   ", d, $4 }'; done
    echo
}
echo "disk: $(disk_free)"

wanted() {  # is suite $1 (basename) selected by T?
    [ -z "$ONLY" ] && return 0
    local b=${1%.sh} w
    for w in $ONLY; do
        w=${w%.sh}
        case "$b" in "$w"|"t_$w"|"test_$w") return 0;; esac
    done
    return 1
}
pass=0; fail=0; skip=0; failed=(); skipped=(); ran=0
log=$(mktemp); trap 'rm -f "$log"' EXIT
run() {
    local name=$1; shift
    wanted "$name" || return 0
    ran=$((ran+1))
    local t0=$(date +%s) rc
    "$@" 2>&1 | tee "$log"; rc=${PIPESTATUS[0]}
    local dt=$(( $(date +%s) - t0 ))
    if [ "$rc" -ne 0 ]; then fail=$((fail+1)); failed+=("$name"); echo "FAIL $name (${dt}s; disk: $(disk_free))"
    elif grep -q '^SKIP' "$log"; then skip=$((skip+1)); skipped+=("$name: $(grep -m1 '^SKIP' "$log")"); echo "SKIP $name (${dt}s)"
    else pass=$((pass+1)); echo "PASS $name (${dt}s)"; fi
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
if [ -n "$ONLY" ] && [ $ran -eq 0 ]; then echo "== no suite matches T='$ONLY'"; exit 1; fi
echo "== $pass passed, $fail failed, $skip skipped"
[ $skip -eq 0 ] || printf '   skipped: %s\n' "${skipped[@]}"
[ $fail -eq 0 ] || { printf '   failed: %s\n' "${failed[@]}"; exit 1; }
