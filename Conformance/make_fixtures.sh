#!/usr/bin/env bash
# Regenerates the committed conformance fixtures for the Swift test suite:
#   Conformance/Fixtures/scenarios.json  hand-written scenarios + random ones from fixed seeds
#   Conformance/Fixtures/traces.json     CPython 3.13's traces for them (reference_runner.py)
# Deterministic: running it twice produces the same bytes.
# Usage: Conformance/make_fixtures.sh            (from anywhere)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="$here/Fixtures"

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
PY="${PYTHON:-$(find_python)}" || { echo "make_fixtures: CPython 3.13 not found (pyenv 3.13.0 or python3.13 on PATH; or set PYTHON)" >&2; exit 1; }
case "$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')" in
    3.13) ;;
    *) echo "make_fixtures: $PY is not CPython 3.13; the fixtures must come from 3.13" >&2; exit 1 ;;
esac

# The fixed seeds: (seed count max-depth). Changing them changes the fixtures.
SEEDS=(
    "1 600 5"
    "2 600 5"
    "3 400 3"
    "4 400 6"
)

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
parts=("$here/handwritten.json")
for spec in "${SEEDS[@]}"; do
    read -r seed count depth <<<"$spec"
    "$PY" "$here/generate_scenarios.py" --seed "$seed" --count "$count" --max-depth "$depth" > "$tmp/seed$seed.json"
    parts+=("$tmp/seed$seed.json")
done

mkdir -p "$out"
"$PY" - "$out/scenarios.json" "${parts[@]}" <<'PYEOF'
import json, sys
dest, parts = sys.argv[1], sys.argv[2:]
scenarios = []
for p in parts:
    with open(p, encoding="utf-8") as f:
        scenarios.extend(json.load(f))
names = [s.get("name") for s in scenarios]
dupes = {n for n in names if names.count(n) > 1}
if dupes:
    sys.exit(f"make_fixtures: duplicate scenario names: {sorted(dupes)[:5]}")
with open(dest, "w", encoding="utf-8") as f:
    f.write("[")
    for i, s in enumerate(scenarios):
        f.write("\n" if i == 0 else ",\n")
        f.write(json.dumps(s, separators=(",", ":")))
    f.write("\n]\n")
PYEOF

"$PY" "$here/reference_runner.py" < "$out/scenarios.json" > "$tmp/traces.json"
mv "$tmp/traces.json" "$out/traces.json"

"$PY" - "$out/scenarios.json" "$out/traces.json" <<'PYEOF'
import json, sys
s = json.load(open(sys.argv[1])); t = json.load(open(sys.argv[2]))
assert len(s) == len(t), (len(s), len(t))
bad = [i for i, tr in enumerate(t) if any(e.get("ev") in ("runner_error", "unsupported") for e in tr)]
if bad:
    sys.exit(f"make_fixtures: runner errors in scenarios {bad[:10]}")
print(f"make_fixtures: {len(s)} scenarios, {len(t)} traces")
PYEOF
