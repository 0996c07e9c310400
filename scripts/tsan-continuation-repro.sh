#!/usr/bin/env bash
# Shows that ThreadSanitizer's report "data race in withUnsafeContinuation(isolation:_:)
# (resumption) / previous read in UnsafeContinuation.resume(returning:)" is a false positive
# of the Swift runtime on this toolchain, with no library involved.
#
#   scripts/tsan-continuation-repro.sh [rounds] [early|late]
#
# One task parks in withUnsafeContinuation and publishes its continuation through an atomic
# (releasing); another spins on the atomic (acquiring), takes the continuation and resumes it.
# Every access the program itself makes to shared memory is ordered by that atomic; the two
# accesses reported are both inside the continuation machinery: resume(returning:) reading
# the awaiting task's context, and the resumed task writing its own frame in the same slab.
# The edge that orders them is the runtime's continuation handshake (swift_continuation_resume
# / swift_continuation_await in libswift_Concurrency, which is not instrumented), which
# ThreadSanitizer evidently does not see on this toolchain. (With "late", the resumer waits
# 50 µs before resuming, so the task has usually suspended first: the report can appear
# there too.)
# Prints the number of reports; exits 0 when the false positive was reproduced.
set -euo pipefail
rounds=${1:-20000}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
mkdir -p "$dir/Sources/Repro"
cat >"$dir/Package.swift" <<'EOF'
// swift-tools-version: 6.0
import PackageDescription
let package = Package(
  name: "Repro", platforms: [.macOS(.v15)],
  targets: [.executableTarget(name: "Repro")], swiftLanguageModes: [.v6])
EOF
cat >"$dir/Sources/Repro/main.swift" <<'EOF'
import Synchronization

final class Slot: @unchecked Sendable {
  let published = Atomic<Int>(0)
  var continuation: UnsafeContinuation<[Int], Never>?
}

let rounds = Int(CommandLine.arguments[1])!
let late = CommandLine.arguments[2] == "late"
let slot = Slot()
let resumer = Task.detached {
  for i in 0..<rounds {
    while slot.published.load(ordering: .acquiring) != i + 1 {}
    if late {
      let start = ContinuousClock.now
      while ContinuousClock.now - start < .microseconds(50) {}
    }
    let c = slot.continuation!
    c.resume(returning: [i, i + 1, i + 2])
  }
}
var total = 0
for i in 0..<rounds {
  let got = await withUnsafeContinuation { (c: UnsafeContinuation<[Int], Never>) in
    slot.continuation = c
    slot.published.store(i + 1, ordering: .releasing)
  }
  total += got[0]
}
await resumer.value
print("rounds \(rounds), total \(total)")
EOF
(cd "$dir" && swift build --sanitize=thread >/dev/null)
count() {
  TSAN_OPTIONS="exitcode=0 halt_on_error=0" "$dir/.build/debug/Repro" "$rounds" "$1" 2>&1 \
    | tee "$dir/$1.log" | grep -c '^WARNING: ThreadSanitizer' || true
}
mode=${2:-early}
early=$(count "$mode")
echo "$mode: $early reports ($rounds rounds)"
grep -m1 -A12 '^WARNING: ThreadSanitizer' "$dir/$mode.log" | grep -E 'WARNING|#0|Write|read' || true
[[ $early -gt 0 ]]
