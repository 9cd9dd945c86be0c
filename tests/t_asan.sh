#!/usr/bin/env bash
# The C test suite again under AddressSanitizer + UndefinedBehaviorSanitizer (clang-19), so that
# "runs clean under ASan and UBSan" is checked on every CI run, not only when someone remembers.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v clang-19 >/dev/null; then echo "SKIP: clang-19 not installed"; exit 0; fi
env -u T make -s asan 2>&1 | grep -vE '^(clang-19|ar) ' | tail -20
