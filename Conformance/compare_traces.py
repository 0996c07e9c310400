#!/usr/bin/env python3
"""Compare two runners' traces for the same scenarios (SCENARIOS.md, "Comparing").

    compare_traces.py scenarios.json expected.json actual.json [--show N]

expected.json is normally CPython's (reference_runner.py), actual.json the
Swift runner's. Both traces of a scenario are normalized identically:

  1. a `throw` op whose outcome is "value" with value null counts as "stop";
  2. a trace is cut after its first event whose error is IgnoredGeneratorExit,
     or its first `unraisable` event (past that point CPython's behaviour is
     CPython-specific).

then compared as JSON values (key order does not matter). A scenario whose
expected trace is an `unsupported` event (CPython could not compile it, e.g.
more than 20 statically nested blocks) is skipped.

Prints `N scenarios, M agree, K disagree` and the first N (default 5)
disagreeing scenarios in full; exits 1 on any disagreement (or a length
mismatch), 0 otherwise, 2 on unreadable input. Standard library only.
"""

import argparse
import json
import sys


def load(path, what):
    try:
        with open(path, "rb") as f:
            doc = json.loads(f.read().decode("utf-8"))
    except (OSError, ValueError) as e:
        sys.stderr.write(f"compare_traces: cannot read {what} {path}: {e}\n")
        sys.exit(2)
    if not isinstance(doc, list):
        sys.stderr.write(f"compare_traces: {what} {path} is not a JSON array\n")
        sys.exit(2)
    return doc


def _stops_comparison(event):
    return isinstance(event, dict) and (
        event.get("error") == "IgnoredGeneratorExit" or event.get("ev") == "unraisable")


def normalize(trace):
    """The comparable form of one trace (a new list; the input is untouched)."""
    if not isinstance(trace, list):
        return trace
    out = []
    for event in trace:
        if (isinstance(event, dict) and event.get("ev") == "op" and event.get("op") == "throw"
                and event.get("outcome") == "value" and "value" in event
                and event["value"] is None):
            event = {k: v for k, v in event.items() if k != "value"}
            event["outcome"] = "stop"
        out.append(event)
        if _stops_comparison(event):
            break
    return out


def is_unsupported(trace):
    return (isinstance(trace, list) and len(trace) >= 1 and isinstance(trace[0], dict)
            and trace[0].get("ev") == "unsupported")


def first_difference(a, b):
    """Index of the first differing event of two normalized traces."""
    if not isinstance(a, list) or not isinstance(b, list):
        return 0
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return i
    return min(len(a), len(b))


def dumps(obj):
    return json.dumps(obj, separators=(",", ":"))


def show(index, scenario, expected, actual, out):
    name = scenario.get("name", f"#{index}") if isinstance(scenario, dict) else f"#{index}"
    ne, na = normalize(expected), normalize(actual)
    at = first_difference(ne, na)
    out.write(f"\n=== scenario {index} ({name}): first difference at event {at}\n")
    out.write(f"scenario: {dumps(scenario)}\n")
    for label, trace in (("expected", ne), ("actual", na)):
        out.write(f"{label} (normalized):\n")
        if not isinstance(trace, list):
            out.write(f"     {dumps(trace)}\n")
            continue
        for i, event in enumerate(trace):
            mark = ">>" if i == at else "  "
            out.write(f"  {mark}{i:3d} {dumps(event)}\n")
        if at >= len(trace):
            out.write(f"  >>{at:3d} (trace ends)\n")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scenarios")
    ap.add_argument("expected")
    ap.add_argument("actual")
    ap.add_argument("--show", type=int, default=5, metavar="N",
                    help="print the first N disagreeing scenarios in full (default 5)")
    args = ap.parse_args(argv)

    scenarios = load(args.scenarios, "scenarios")
    expected = load(args.expected, "expected traces")
    actual = load(args.actual, "actual traces")
    out = sys.stdout

    n = len(scenarios)
    mismatch = len(expected) != n or len(actual) != n
    if mismatch:
        out.write(f"LENGTH MISMATCH: {n} scenarios, {len(expected)} expected traces, "
                  f"{len(actual)} actual traces; the missing ones count as disagreeing\n")

    agree = disagree = skipped = 0
    shown = 0
    for i in range(n):
        e = expected[i] if i < len(expected) else None
        a = actual[i] if i < len(actual) else None
        if is_unsupported(e):
            skipped += 1
            continue
        if e is not None and a is not None and normalize(e) == normalize(a):
            agree += 1
            continue
        disagree += 1
        if shown < args.show:
            shown += 1
            show(i, scenarios[i], e, a, out)
    if shown:
        out.write("\n")
    summary = f"{n} scenarios, {agree} agree, {disagree} disagree"
    if skipped:
        summary += f", {skipped} skipped (unsupported by CPython)"
    out.write(summary + "\n")
    return 1 if (disagree or mismatch) else 0


if __name__ == "__main__":
    sys.exit(main())
