#!/usr/bin/env bash
# One comparison run: builds and runs the Swift benchmarks (package-benchmark, release: mallocs
# per element) and measurements (GeneratorMeasurements: time per element with a free pool, CPU,
# memory, shutdown), runs the CPython workloads under CPython 3.11 and 3.13, and prints the
# tables, also written as JSON to results/latest.json. See README.md beside this file.
#
#   ./compare.sh            full run (N = 1,000,000 elements; several minutes after the build)
#   ./compare.sh --quick    small N, few runs (for CI: under ~2 minutes after the build)
#
# Environment: PYTHON311 / PYTHON313 override the interpreters (default: found with pyenv),
# PYTHON the one that merges the results (default: python3).
set -euo pipefail

cd "$(dirname "$0")"

QUICK=0
for arg in "$@"; do
  case $arg in
    --quick) QUICK=1 ;;
    -h | --help)
      sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "compare.sh: unknown argument '$arg' (try --help)" >&2
      exit 2
      ;;
  esac
done

QUICK_FLAG=()
[[ $QUICK == 1 ]] && QUICK_FLAG=(--quick)
RESULTS=results
mkdir -p "$RESULTS"
rm -f "$RESULTS"/Current_run.jmh.json "$RESULTS"/measurements.json "$RESULTS"/cpython-*.json
STARTED=$SECONDS

section() { printf '\n=== %s (%ds)\n' "$1" $((SECONDS - STARTED)); }

section "build (release)"
swift build -c release
BIN=$(swift build -c release --show-bin-path)

section "package-benchmark: GeneratorBenchmarks"
GENERATOR_BENCH_QUICK=$QUICK swift package --allow-writing-to-package-directory benchmark run \
  --target GeneratorBenchmarks --format jmh --path "$RESULTS" --no-progress
[[ -f $RESULTS/Current_run.jmh.json ]] || {
  echo "compare.sh: package-benchmark wrote no $RESULTS/Current_run.jmh.json" >&2
  exit 1
}

section "GeneratorMeasurements"
"$BIN/GeneratorMeasurements" ${QUICK_FLAG[@]+"${QUICK_FLAG[@]}"} --json "$RESULTS/measurements.json"

CPYTHON_ARGS=()
run_cpython() { # label, pyenv version, override
  local label=$1 version=$2 python=${3:-}
  if [[ -z $python ]] && command -v pyenv >/dev/null 2>&1; then
    python=$(PYENV_VERSION=$version pyenv which python3 2>/dev/null || true)
  fi
  if [[ -z $python || ! -x $python ]]; then
    section "CPython $label: not found (PYENV_VERSION=$version pyenv which python3), skipped"
    return 0
  fi
  section "CPython $label: $python"
  "$python" python/async_generator_workloads.py ${QUICK_FLAG[@]+"${QUICK_FLAG[@]}"} \
    --json "$RESULTS/cpython-$label.json" >/dev/null
  CPYTHON_ARGS+=(--cpython "$label=$RESULTS/cpython-$label.json")
}
run_cpython 3.11 3.11.7 "${PYTHON311:-}"
run_cpython 3.13 3.13.0 "${PYTHON313:-}"

section "results"
"${PYTHON:-python3}" python/report.py ${QUICK_FLAG[@]+"${QUICK_FLAG[@]}"} \
  --jmh "$RESULTS/Current_run.jmh.json" --measurements "$RESULTS/measurements.json" \
  ${CPYTHON_ARGS[@]+"${CPYTHON_ARGS[@]}"} --json "$RESULTS/latest.json"
printf '(%ds in all)\n' $((SECONDS - STARTED))
