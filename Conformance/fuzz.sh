#!/usr/bin/env bash
# Differential fuzz campaign: CPython 3.13 (reference_runner.py) vs the Swift runner.
#
# Usage: Conformance/fuzz.sh [-r RUNNER] [-s SEED] [-n ROUNDS] [-c COUNT] [-d DEPTH] [-o DIR]
#   -r RUNNER  Swift runner binary (default: build it with
#              `swift build -c release --product async-generator-scenarios` in the
#              repository root and use .build/release/async-generator-scenarios)
#   -s SEED    first seed (default 1); round k uses seed SEED+k
#   -n ROUNDS  number of rounds (default 100)
#   -c COUNT   scenarios per round (default 1000)
#   -d DEPTH   --max-depth for generate_scenarios.py (default: cycles 3,4,5,6 by seed)
#   -o DIR     where a failing round's files are kept (default: a new temp dir)
# Each round generates scenarios, runs both runners, compares (compare_traces.py).
# Stops at the first disagreement (or runner failure), prints the seed and keeps
# scenarios.json / expected.json / actual.json; exit 1. Exit 0 when all rounds agree.
# Environment: PYTHON overrides the CPython 3.13 interpreter; RUNNER_TIMEOUT
# (seconds, default 600) bounds each runner invocation.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"

runner=""; seed=1; rounds=100; count=1000; depth=""; keep=""
while getopts "r:s:n:c:d:o:h" opt; do
    case "$opt" in
        r) runner="$OPTARG" ;;
        s) seed="$OPTARG" ;;
        n) rounds="$OPTARG" ;;
        c) count="$OPTARG" ;;
        d) depth="$OPTARG" ;;
        o) keep="$OPTARG" ;;
        h) sed -n '2,17p' "$0"; exit 0 ;;
        *) sed -n '2,17p' "$0" >&2; exit 2 ;;
    esac
done
for v in "$seed" "$rounds" "$count"; do
    [[ "$v" =~ ^[0-9]+$ ]] || { echo "fuzz: seed, rounds and count must be non-negative integers" >&2; exit 2; }
done

find_python() {
    local p
    if command -v pyenv >/dev/null 2>&1 && p="$(PYENV_VERSION=3.13.0 pyenv which python3 2>/dev/null)" && [ -x "$p" ]; then
        echo "$p"; return 0
    fi
    if p="$(command -v python3.13 2>/dev/null)" && [ -n "$p" ]; then
        echo "$p"; return 0
    fi
    return 1
}
PY="${PYTHON:-$(find_python)}" || { echo "fuzz: CPython 3.13 not found (pyenv 3.13.0 or python3.13 on PATH; or set PYTHON)" >&2; exit 2; }

if [ -z "$runner" ]; then
    echo "fuzz: building the Swift runner (release)..." >&2
    (cd "$root" && swift build -c release --product async-generator-scenarios >&2)
    runner="$root/.build/release/async-generator-scenarios"
fi
[ -x "$runner" ] || { echo "fuzz: runner $runner is not an executable" >&2; exit 2; }

tout="${RUNNER_TIMEOUT:-600}"
with_timeout() { if command -v timeout >/dev/null 2>&1; then timeout "$tout" "$@"; else "$@"; fi; }

work="$(mktemp -d)"
cleanup() { rm -rf "$work"; }
trap cleanup EXIT

fail() {  # $1 = seed, $2 = reason
    local dest="${keep:-$(mktemp -d)}"
    mkdir -p "$dest"
    cp "$work"/*.json "$dest"/ 2>/dev/null || true
    [ -f "$work/actual.stderr" ] && cp "$work/actual.stderr" "$dest"/
    echo "fuzz: FAILED at seed $1 (depth $2): $3" >&2
    echo "fuzz: files kept in $dest (scenarios.json expected.json actual.json)" >&2
    echo "fuzz: reproduce: $PY $here/generate_scenarios.py --seed $1 --count $count --max-depth $2" >&2
    echo "$1"
    exit 1
}

start=$(date +%s)
for ((k = 0; k < rounds; k++)); do
    s=$((seed + k))
    d="${depth:-$((3 + s % 4))}"
    "$PY" "$here/generate_scenarios.py" --seed "$s" --count "$count" --max-depth "$d" > "$work/scenarios.json"
    rc=0
    with_timeout "$PY" "$here/reference_runner.py" < "$work/scenarios.json" > "$work/expected.json" || rc=$?
    [ "$rc" -eq 0 ] || fail "$s" "$d" "the reference runner failed (exit status $rc)"
    rc=0
    with_timeout "$runner" < "$work/scenarios.json" > "$work/actual.json" 2> "$work/actual.stderr" || rc=$?
    [ "$rc" -eq 0 ] || fail "$s" "$d" "the Swift runner failed (exit status $rc; see actual.stderr)"
    if ! "$PY" "$here/compare_traces.py" "$work/scenarios.json" "$work/expected.json" "$work/actual.json" --show 3 > "$work/compare.txt"; then
        cat "$work/compare.txt"
        fail "$s" "$d" "traces disagree"
    fi
    echo "fuzz: seed $s (depth $d): $(tail -n 1 "$work/compare.txt")  [$(( $(date +%s) - start ))s]" >&2
done
echo "fuzz: all $rounds rounds agree (seeds $seed..$((seed + rounds - 1)), $count scenarios each)" >&2
