#!/usr/bin/env bash
# t_fuzz_replay.sh — every committed fuzz input (tests/fuzz/corpus/NAME, plus tests/data/bad for
# the file parsers) replayed once through its libFuzzer target under ASan + UBSan + LeakSanitizer
# (`make fuzz-replay`: -runs=0, nothing new is generated). A crash, leak, UB or a violated
# invariant fails the suite. Fuzzing itself is `make fuzz T=NAME SECONDS=N` (docs/RELIABILITY.md).
set -uo pipefail
cd "$(dirname "$0")/.."
command -v clang-19 >/dev/null || { echo "SKIP: clang-19 not installed (libFuzzer)"; exit 0; }
echo 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { (void)d; (void)n; return 0; }' > /tmp/chord_fuzz_probe.c
clang-19 -fsanitize=fuzzer,address,undefined /tmp/chord_fuzz_probe.c -o /tmp/chord_fuzz_probe 2>/dev/null \
    || { rm -f /tmp/chord_fuzz_probe.c; echo "SKIP: clang-19 has no libFuzzer runtime"; exit 0; }
rm -f /tmp/chord_fuzz_probe.c /tmp/chord_fuzz_probe
env -u T make -s fuzz-build || { echo "FAIL: make fuzz-build"; exit 1; }
out=$(ASAN_OPTIONS=detect_leaks=1 env -u T make -s fuzz-replay 2>&1); rc=$?
printf '%s\n' "$out" | grep -E '^== |DONE|ERROR|SUMMARY|invariant' 
n=$(printf '%s\n' "$out" | grep -c 'DONE')
want=$(ls tests/fuzz/fuzz_*.c | wc -l)
[ $rc -eq 0 ] && [ "$n" -eq "$want" ] || { echo "t_fuzz_replay: FAILED ($n of $want targets replayed cleanly)"; exit 1; }
echo "t_fuzz_replay: $n targets, every committed input clean"
