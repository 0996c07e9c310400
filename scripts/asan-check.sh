#!/usr/bin/env bash
# Runs the test suite under AddressSanitizer, with LeakSanitizer's check at exit.
#
#   scripts/asan-check.sh [extra swift test arguments]
#
# Any ASan error (use after free, overflow...) fails, and so does any leak, with one
# exception, left out on purpose and narrowly: XCTest's own allocations (`leak:XCTest`):
# `swift test` first runs the XCTest pass, which finds no XCTest tests and leaks a few
# hundred bytes of its own bookkeeping.
# A generator body leaked anywhere else (a task parked forever, unreachable) shows up as a
# leak. Needs only the toolchain; builds in .build-asan.
set -uo pipefail
cd "$(dirname "$0")/.."

suppressions=$(mktemp)
trap 'rm -f "$suppressions"' EXIT
echo 'leak:XCTest' >"$suppressions"

ASAN_OPTIONS="detect_leaks=1 ${ASAN_OPTIONS:-}" \
  LSAN_OPTIONS="suppressions=$suppressions print_suppressions=0 ${LSAN_OPTIONS:-}" \
  swift test --sanitize=address --scratch-path .build-asan "$@"
