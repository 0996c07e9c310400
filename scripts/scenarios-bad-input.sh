#!/usr/bin/env bash
# Feeds the scenario runner (async-generator-scenarios) inputs it must reject: truncated JSON,
# wrong types, inputs breaking the rules of SCENARIOS.md, and huge or endless inputs. Each must
# end within a time limit with exit status 2, exactly one line on standard error (naming the
# runner), and nothing on standard output: no crash (a signal), no hang, no partial output.
#
#   scripts/scenarios-bad-input.sh [path to async-generator-scenarios]
#
# Without a path it builds the runner in .build-stress. Prints one line per input and a
# closing "N passed, N failed" line; exits 1 if any input was answered otherwise.
set -uo pipefail
cd "$(dirname "$0")/.."

runner=${1:-}
if [[ -z $runner ]]; then
  swift build --product async-generator-scenarios --scratch-path .build-stress >/dev/null || exit 1
  runner="$(swift build --scratch-path .build-stress --show-bin-path)/async-generator-scenarios"
fi
limit=${SCENARIOS_BAD_INPUT_TIMEOUT:-20}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

passed=0
failed=0

# check NAME: runs the runner on standard input from the file $work/input and checks the answer.
check() {
  local name=$1 status
  timeout --kill-after=5 "$limit" "$runner" <"$work/input" >"$work/out" 2>"$work/err"
  status=$?
  local problems=()
  if [[ $status -eq 124 || $status -eq 137 ]]; then
    problems+=("no answer within ${limit}s (hang)")
  elif [[ $status -gt 128 ]]; then
    problems+=("killed by signal $((status - 128)) (crash)")
  elif [[ $status -ne 2 ]]; then
    problems+=("exit status $status, not 2")
  fi
  [[ -s $work/out ]] && problems+=("$(wc -c <"$work/out") bytes on standard output")
  local lines
  lines=$(wc -l <"$work/err")
  if [[ $lines -ne 1 ]] || [[ $(tail -c 1 "$work/err" | od -An -c | tr -d ' ') != '\n' ]]; then
    problems+=("$lines lines on standard error, not one")
  fi
  if ! head -n 1 "$work/err" | grep -q '^async-generator-scenarios: .'; then
    problems+=("standard error does not start with 'async-generator-scenarios: '")
  fi
  local message
  message=$(head -c 160 "$work/err" | head -n 1)
  if [[ ${#problems[@]} -eq 0 ]]; then
    passed=$((passed + 1))
    printf 'ok      %-34s %s\n' "$name" "$message"
  else
    failed=$((failed + 1))
    printf 'FAILED  %-34s %s\n' "$name" "$(IFS=';'; echo "${problems[*]}")"
    printf '        stderr: %s\n' "$message"
  fi
}

# text NAME JSON: an input given as text.
text() {
  printf '%s' "$2" >"$work/input"
  check "$1"
}

valid='[{"name":"s","body":[{"yield":1},{"log":"L"}],"ops":[{"op":"next"},{"op":"close"}]}]'

# Truncated JSON, at several places.
text "empty input" ''
text "whitespace only" '   '
for cut in 1 2 10 25 40 60 $((${#valid} - 1)); do
  text "truncated after $cut bytes" "${valid:0:$cut}"
done
text "unterminated string" '[{"name":"abc'
text "trailing comma" '[{"body":[],"ops":[]},]'
text "two documents" "$valid$valid"
text "garbage after the value" "$valid x"
text "single quotes" "[{'body':[],'ops':[]}]"
text "bare word" 'scenarios'

# Wrong types and shapes.
text "top level an object" '{"body":[],"ops":[]}'
text "top level a number" '42'
text "top level null" 'null'
text "scenario a number" '[42]'
text "scenario a string" '["s"]'
text "body an object" '[{"body":{},"ops":[]}]'
text "ops a string" '[{"body":[],"ops":"next"}]'
text "missing ops" '[{"body":[]}]'
text "missing body" '[{"ops":[]}]'
text "unknown scenario key" '[{"body":[],"ops":[],"extra":1}]'
text "name a number" '[{"name":1,"body":[],"ops":[]}]'
text "yield a string" '[{"body":[{"yield":"7"}],"ops":[]}]'
text "yield a fraction" '[{"body":[{"yield":1.5}],"ops":[]}]'
text "yield too large an integer" '[{"body":[{"yield":123456789012345678901234567890}],"ops":[]}]'
text "yield a huge exponent" '[{"body":[{"yield":1e999999}],"ops":[]}]'
text "await not true" '[{"body":[{"await":1}],"ops":[]}]'
text "unknown statement" '[{"body":[{"sleep":1}],"ops":[]}]'
text "two statement kinds" '[{"body":[{"yield":1,"log":"L"}],"ops":[]}]'
text "raise an unknown error" '[{"body":[{"raise":"E9"}],"ops":[]}]'
text "handler without match" '[{"body":[{"try":[],"except":[{"body":[]}]}],"ops":[]}]'
text "handler reraise not boolean" \
  '[{"body":[{"try":[],"except":[{"match":"any","body":[],"reraise":"yes"}]}],"ops":[]}]'
text "unknown op" '[{"body":[],"ops":[{"op":"rewind"}]}]'
text "op a string" '[{"body":[],"ops":["next"]}]'
text "send without value" '[{"body":[],"ops":[{"op":"send"}]}]'
text "send a boolean" '[{"body":[],"ops":[{"op":"send","value":true}]}]'
text "throw an unknown error" '[{"body":[],"ops":[{"op":"throw","error":"KeyError"}]}]'
text "repeat above 1,000" '[{"body":[{"repeat":1001,"body":[]}],"ops":[]}]'
text "repeat negative" '[{"body":[{"repeat":-1,"body":[]}],"ops":[]}]'
text "duplicate key" '[{"body":[],"body":[],"ops":[]}]'
text "control character in string" "$(printf '[{"name":"a\001b","body":[],"ops":[]}]')"
text "bad escape" '[{"name":"a\qb","body":[],"ops":[]}]'
text "lone surrogate escape" '[{"name":"\ud800","body":[],"ops":[]}]'
printf '[{"name":"\xff\xfe","body":[],"ops":[]}]' >"$work/input"
check "invalid UTF-8"
printf '[{"name":"a\0b","body":[],"ops":[]}]' >"$work/input"
check "NUL byte"

# Nesting: statements deeper than 32, and JSON nested far deeper than any parser stack.
nested() {  # nested DEPTH: a body whose statements nest DEPTH deep through repeat
  local depth=$1 open='' close='' i
  for ((i = 0; i < depth; i++)); do
    open+='{"repeat":1,"body":['
    close+=']}'
  done
  printf '[{"body":[%s{"log":"deep"}%s],"ops":[]}]' "$open" "$close"
}
nested 33 >"$work/input"
check "statements nested 33 deep"
head -c 100000 /dev/zero | tr '\0' '[' >"$work/input"
check "100,000 nested arrays"
head -c 1000000 /dev/zero | tr '\0' '{' >"$work/input"
check "1,000,000 open braces"
{ printf '['; head -c 200000 /dev/zero | sed 's/\x0/{"a":[/g'; } >"$work/input"
check "200,000 nested objects and arrays"

# Huge inputs: more than 16 MiB, whether valid-looking or not, and an endless one.
{ printf '['; head -c $((17 * 1024 * 1024)) /dev/zero | tr '\0' ' '; printf ']'; } >"$work/input"
check "17 MiB of whitespace in an array"
{
  printf '[{"name":"'
  head -c $((17 * 1024 * 1024)) /dev/zero | tr '\0' 'a'
  printf '","body":[],"ops":[]}]'
} >"$work/input"
check "a 17 MiB name"
{
  printf '['
  yes '{"body":[{"yield":1}],"ops":[{"op":"next"}]},' | head -n 400000 | tr -d '\n'
  printf '%s]' '{"body":[],"ops":[]}'
} >"$work/input"
check "400,000 valid scenarios (18 MiB)"
head -c $((64 * 1024 * 1024)) /dev/zero >"$work/input"
check "64 MiB of NUL bytes"

# An endless input (a pipe that never ends): the runner must stop reading and reject it.
endless_status=0
timeout --kill-after=5 "$limit" bash -c 'yes "[[[[[[[[" | "$1"' _ "$runner" \
  >"$work/out" 2>"$work/err" || endless_status=$?
# The pipeline's status is the runner's (the last command); yes dies of SIGPIPE.
if [[ $endless_status -eq 2 && ! -s $work/out && $(wc -l <"$work/err") -eq 1 ]]; then
  passed=$((passed + 1))
  printf 'ok      %-34s %s\n' "an endless input" "$(head -c 160 "$work/err")"
else
  failed=$((failed + 1))
  printf 'FAILED  %-34s status %s, %s stdout bytes, %s stderr lines\n' "an endless input" \
    "$endless_status" "$(wc -c <"$work/out")" "$(wc -l <"$work/err")"
fi

# The runner still answers a valid input (so the checks above test rejection, not breakage).
printf '%s' "$valid" >"$work/input"
if timeout "$limit" "$runner" <"$work/input" >"$work/out" 2>"$work/err" && [[ -s $work/out ]] \
  && [[ ! -s $work/err ]]; then
  passed=$((passed + 1))
  echo "ok      a valid input is answered with traces"
else
  failed=$((failed + 1))
  echo "FAILED  a valid input is not answered normally"
fi

echo "scenarios-bad-input: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
