#!/usr/bin/env bash
# Checks that every CORE and HOOKS behaviour of the conformance catalogue (AG-001 … AG-145) is
# either named by a test or documented as a difference from CPython:
#
#   - named by a test: an `AG-NNN` in the display name of a Swift Testing `@Test` (or in its
#     function's name, as `agNNN`/`ag_NNN`) anywhere under Tests/. Lists such as
#     "AG-088, AG-094" count each ID; ranges are not expanded, so write every ID out.
#   - documented: a table row that starts with the ID (`| AG-NNN | …`) in
#     Sources/AsyncGenerators/AsyncGenerators.docc/DifferencesFromCPython.md.
#
# The IDs and their classes come from ../shared/conformance/CATALOGUE.md when it is present
# (or the file $CATALOGUE names), else from scripts/catalogue-ids.txt, a committed copy of its
# list, so that the check runs without ../shared. A copy that differs from the catalogue is
# reported (a warning); `--update` rewrites it.
#
# Prints the counts (tested / documented difference / missing) and exits non-zero when an ID
# is missing, or when a test or the document names an ID that the catalogue does not have.
#
#   scripts/check-catalogue-coverage.sh             the check
#   scripts/check-catalogue-coverage.sh --verbose   also one line per ID: how it is covered
#   scripts/check-catalogue-coverage.sh --update    rewrite scripts/catalogue-ids.txt from the catalogue
set -euo pipefail

cd "$(dirname "$0")/.."

IDS_FILE=scripts/catalogue-ids.txt
CATALOGUE=${CATALOGUE:-../shared/conformance/CATALOGUE.md}
DIFFERENCES=Sources/AsyncGenerators/AsyncGenerators.docc/DifferencesFromCPython.md
TESTS=Tests

VERBOSE=0
UPDATE=0
for arg in "$@"; do
  case $arg in
    --verbose | -v) VERBOSE=1 ;;
    --update) UPDATE=1 ;;
    *)
      echo "usage: $0 [--verbose] [--update]" >&2
      exit 2
      ;;
  esac
done

# The catalogue's entries as "AG-NNN CLASS GROUP" lines, from its `### GROUP: title` headings
# and `**AG-NNN** \`CLASS\`` entry lines.
catalogue_ids() {
  awk '
    /^### [A-Z-]+:/ { group = $2; sub(/:$/, "", group) }
    /^\*\*AG-[0-9][0-9][0-9]\*\* `[A-Z-]+`/ {
      id = $1; gsub(/\*/, "", id)
      class = $2; gsub(/[`:]/, "", class)
      print id, class, group
    }
  ' "$1"
}

if [[ -f $CATALOGUE ]]; then
  fresh=$(catalogue_ids "$CATALOGUE")
  if [[ -z $fresh ]]; then
    echo "error: no entries found in $CATALOGUE" >&2
    exit 1
  fi
  if [[ $UPDATE == 1 ]]; then
    {
      echo "# The conformance catalogue's behaviours: ID, class (CORE, HOOKS, PY-ONLY), group."
      echo "# A copy of ../shared/conformance/CATALOGUE.md's list, for"
      echo "# scripts/check-catalogue-coverage.sh; regenerate it with that script's --update."
      echo "$fresh"
    } >"$IDS_FILE"
    echo "wrote $IDS_FILE ($(echo "$fresh" | wc -l) entries)"
    exit 0
  fi
  entries=$fresh
  if diff <(echo "$fresh") <(grep -v '^#' "$IDS_FILE") >/dev/null; then
    echo "catalogue: $CATALOGUE (the copy $IDS_FILE matches it)"
  else
    echo "catalogue: $CATALOGUE"
    echo "warning: the copy $IDS_FILE differs from the catalogue (rewrite it with --update):" >&2
    diff <(grep -v '^#' "$IDS_FILE") <(echo "$fresh") >&2 || true
  fi
elif [[ $UPDATE == 1 ]]; then
  echo "error: --update needs the catalogue at $CATALOGUE" >&2
  exit 1
else
  echo "catalogue: $CATALOGUE not found; using the committed copy $IDS_FILE"
  entries=$(grep -v '^#' "$IDS_FILE")
fi

# IDs named by tests: the text from each `@Test` to its `func` line (the display name, possibly
# over several lines), and the function's name.
tested_ids() {
  find "$TESTS" -name '*.swift' -print0 | xargs -0 awk '
    function emit(text,   rest) {
      rest = text
      while (match(rest, /AG-[0-9][0-9][0-9]/)) {
        print substr(rest, RSTART, RLENGTH)
        rest = substr(rest, RSTART + RLENGTH)
      }
    }
    FNR == 1 { inside = 0 }
    /^[[:space:]]*\/\// { next }
    /@Test([^A-Za-z]|$)/ { inside = 1; chunk = "" }
    inside {
      chunk = chunk " " $0
      if ($0 ~ /(^|[^A-Za-z_])func[[:space:]]+[A-Za-z_]/) {
        emit(chunk)
        if (match($0, /func[[:space:]]+[Aa][Gg]_?[0-9][0-9][0-9]/)) {
          name = substr($0, RSTART, RLENGTH)
          gsub(/[^0-9]/, "", name)
          print "AG-" name
        }
        inside = 0
      }
    }
  ' | sort -u
}

# IDs with a row of their own in the differences table.
documented_ids() {
  [[ -f $DIFFERENCES ]] || return 0
  grep -oE '^\|[[:space:]]*AG-[0-9]{3}[[:space:]]*\|' "$DIFFERENCES" | grep -oE 'AG-[0-9]{3}' | sort -u
}

all=$(awk '{ print $1 }' <<<"$entries" | sort -u)
required=$(awk '$2 == "CORE" || $2 == "HOOKS" { print $1 }' <<<"$entries" | sort -u)
tested=$(tested_ids)
documented=$(documented_ids)

if [[ ! -f $DIFFERENCES ]]; then
  echo "warning: $DIFFERENCES not found: no ID counts as documented" >&2
fi

tested_count=0
documented_count=0
both_count=0
missing=()
for id in $required; do
  class=$(grep -m1 "^$id " <<<"$entries" | awk '{ print $2 }')
  is_tested=0
  is_documented=0
  grep -qx "$id" <<<"$tested" && is_tested=1
  grep -qx "$id" <<<"$documented" && is_documented=1
  if [[ $is_tested == 1 ]]; then
    tested_count=$((tested_count + 1))
    [[ $is_documented == 1 ]] && both_count=$((both_count + 1))
    status="tested"
    [[ $is_documented == 1 ]] && status="tested (and documented as a difference)"
  elif [[ $is_documented == 1 ]]; then
    documented_count=$((documented_count + 1))
    status="documented difference"
  else
    missing+=("$id")
    status="MISSING"
  fi
  if [[ $VERBOSE == 1 ]]; then printf '%s %-7s %s\n' "$id" "$class" "$status"; fi
done

# IDs that the tests or the document name but the catalogue does not have (typos).
unknown=$(comm -23 <(printf '%s\n' $tested $documented | sort -u) <(echo "$all"))

required_count=$(echo "$required" | wc -w)
if [[ $required_count -eq 0 ]]; then
  echo "error: no CORE or HOOKS IDs in $IDS_FILE" >&2
  exit 1
fi
echo "CORE + HOOKS behaviours: $required_count"
echo "  tested:                $tested_count (of which $both_count also have a row in the differences table)"
echo "  documented difference: $documented_count"
echo "  missing:               ${#missing[@]}"

status=0
if [[ ${#missing[@]} -gt 0 ]]; then
  echo "error: neither named by a test under $TESTS/ nor a row of $DIFFERENCES:" >&2
  printf '  %s\n' "${missing[@]}" >&2
  status=1
fi
if [[ -n $unknown ]]; then
  echo "error: named by a test or the differences table but not in the catalogue:" >&2
  printf '  %s\n' $unknown >&2
  status=1
fi
exit $status
