#!/usr/bin/env python3
"""Merges one compare.sh run's results into one table and one JSON file.

    report.py --jmh results/Current_run.jmh.json --measurements results/measurements.json \
              --cpython 3.11=results/cpython-3.11.json --cpython 3.13=results/cpython-3.13.json \
              --json results/latest.json

Swift time per element comes from GeneratorMeasurements (its "elementRates"): the median (and
min) over its runs of wall-clock time / N, the consumer in a Task.detached with the cooperative
pool free. These are the figures the bars of SPEC.md section 6 are checked against.

Swift mallocs per element come from package-benchmark's JMH export: per benchmark, the median
(p50) of the mallocs of one iteration / N, N being the benchmark's "elements" tag. Its wall-clock
figures are reported too, apart and labelled: its harness blocks a cooperative-pool thread on a
semaphore while an async benchmark runs (on a 2-CPU Linux machine the body and the consumer then
share the one pool thread left), so they are not the element rate of a free pool.

Every number printed is computed from those files: nothing is hard-coded but the SPEC bars.
"""

import argparse
import datetime
import json
import math
import platform
import re
import sys

JMH_NAME = re.compile(r"^package\.benchmark\.(?P<target>[^.]+)\.(?P<name>.+)_\(elements:_(?P<n>\d+)\)$")

# package-benchmark name (also GeneratorMeasurements' workload name) -> (row, column)
SWIFT_BENCHMARKS = {
    "generator for-await": ("iterate", "ours"),
    "generator send ping-pong": ("send", "ours"),
    "generator throw caught": ("throw", "ours"),
    "generator create+next+close": ("lifecycle", "ours"),
    "generator steady-state next": ("steady", "ours"),
    "generator prefetching(64) for-await": ("prefetch", "ours"),
    "AsyncThrowingStream for-await": ("iterate", "stream"),
    "AsyncChannel for-await": ("iterate", "channel"),
    "hand-written iterator for-await": ("iterate", "hand"),
}

SWIFT_BENCHMARKS_BY_ROW = {place: name for name, place in SWIFT_BENCHMARKS.items()}

# row -> (label, CPython workload it is compared with, SPEC bar as text, bar check)
ROWS = [
    ("iterate", "for try await / async for, yield-only body", "iterate",
     "ours <= 3.13 (aim: 3.11)", lambda r: r.get("ours_over_3.13")),
    ("send", "send / asend ping-pong", "send", "ours <= 3.13 (aim: 3.11)",
     lambda r: r.get("ours_over_3.13")),
    ("throw", "throw / athrow, caught, yield again", "throw", "", None),
    ("lifecycle", "create + first next + close (per generator)", "lifecycle", "", None),
    ("steady", "steady-state next() of a started generator", None, "0 mallocs/elem", None),
    ("prefetch", "prefetching(64) vs. async for", "iterate", "ours <= 0.5 x 3.11",
     lambda r: None if r.get("ours_over_3.11") is None else r["ours_over_3.11"] / 0.5),
]


def load(path):
    with open(path) as f:
        return json.load(f)


def percentile50(metric):
    return metric["scorePercentiles"]["50.0"]


def package_benchmark_rows(jmh):
    """Per benchmark name: mallocs and wall-clock ns per element (p50 / N) under package-benchmark."""
    rows = {}
    unknown = []
    for element in jmh:
        match = JMH_NAME.match(element["benchmark"])
        if not match:
            unknown.append(element["benchmark"])
            continue
        name = match["name"].replace("_", " ")
        n = int(match["n"])
        if name not in SWIFT_BENCHMARKS:
            unknown.append(name)
            continue
        secondary = element.get("secondaryMetrics", {})
        wall = secondary.get("Time (wall clock)")
        mallocs = secondary.get("Malloc (total)")
        rows[name] = {
            # microseconds per iteration -> ns/elem
            "ns_per_element": None if wall is None else percentile50(wall) * 1000.0 / n,
            "mallocs_per_element": None if mallocs is None else percentile50(mallocs) / n,
            "elements": n,
            "iterations": element.get("measurementIterations"),
        }
    return rows, unknown


def element_rates(measurements):
    """Per workload name: GeneratorMeasurements' time per element (consumer in Task.detached)."""
    rates = {}
    unknown = []
    for rate in measurements.get("elementRates", []):
        name = rate["workload"]
        if name not in SWIFT_BENCHMARKS:
            unknown.append(name)
            continue
        rates[name] = {
            "ns_per_element": rate["medianNanosecondsPerElement"],
            "min_ns_per_element": rate["minNanosecondsPerElement"],
            "elements": rate["elements"],
            "runs": rate["runs"],
        }
    return rates, unknown


def swift_rows(rates, harness):
    """row -> {column: median ns, column_min, column_elements, column_runs, column_mallocs}."""
    rows = {}
    for name, (row, column) in SWIFT_BENCHMARKS.items():
        rate = rates.get(name)
        pb = harness.get(name)
        if rate is None and pb is None:
            continue
        entry = rows.setdefault(row, {})
        if rate is not None:
            entry[column] = rate["ns_per_element"]
            entry[column + "_min"] = rate["min_ns_per_element"]
            entry[column + "_elements"] = rate["elements"]
            entry[column + "_runs"] = rate["runs"]
        if pb is not None:
            entry[column + "_mallocs"] = pb["mallocs_per_element"]
            entry[column + "_mallocs_elements"] = pb["elements"]
    return rows


def fmt(value, digits=0, suffix=""):
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:,.{digits}f}{suffix}"


def table(headers, rows, right=None):
    right = right if right is not None else set(range(1, len(headers)))
    widths = [max(len(str(x)) for x in column) for column in zip(headers, *rows)]

    def line(cells):
        return "  ".join(
            str(c).rjust(w) if i in right else str(c).ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    out = [line(headers), "  ".join("-" * w for w in widths)]
    out += [line(r) for r in rows]
    return "\n".join(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jmh", help="package-benchmark's JMH export")
    parser.add_argument("--measurements", help="GeneratorMeasurements' JSON")
    parser.add_argument("--cpython", action="append", default=[], metavar="LABEL=FILE",
                        help="a CPython run's JSON (repeatable), e.g. 3.11=results/cpython-3.11.json")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--json", help="write the merged figures here")
    args = parser.parse_args()

    problems = []
    harness = {}
    if args.jmh:
        try:
            harness, unknown = package_benchmark_rows(load(args.jmh))
            if unknown:
                problems.append("unrecognised benchmarks in the JMH export: " + ", ".join(unknown))
        except (OSError, ValueError, KeyError) as error:
            problems.append(f"no package-benchmark figures ({error})")
    measurements = None
    rates = {}
    if args.measurements:
        try:
            measurements = load(args.measurements)
            rates, unknown = element_rates(measurements)
            if unknown:
                problems.append("unrecognised workloads in GeneratorMeasurements' elementRates: "
                                + ", ".join(unknown))
            if not rates:
                problems.append("no time per element in GeneratorMeasurements' JSON")
        except (OSError, ValueError, KeyError) as error:
            problems.append(f"no GeneratorMeasurements figures ({error})")
    swift = swift_rows(rates, harness)
    cpython = {}
    for item in args.cpython:
        label, _, path = item.partition("=")
        try:
            cpython[label] = load(path)
        except (OSError, ValueError) as error:
            problems.append(f"no CPython {label} figures ({error})")
    labels = ["3.11", "3.13"]

    # --- per element -------------------------------------------------------------------------
    merged_rows = {}
    printed = []
    for key, label, python_key, bar, check in ROWS:
        entry = dict(swift.get(key, {}))
        if not entry and key == "prefetch":
            continue  # not in the library yet (the benchmark is behind `#if false`)
        for version in labels:
            run = cpython.get(version)
            value = None
            if run and python_key:
                value = run["workloads"].get(python_key, {}).get("ns_per_element")
            entry[f"cpython_{version}"] = value
            ours = entry.get("ours")
            entry[f"ours_over_{version}"] = ours / value if ours is not None and value else None
        verdict = None
        if check is not None:
            ratio = check(entry)
            verdict = None if ratio is None else ("yes" if ratio <= 1.0 else "no")
        if key == "steady":
            m = entry.get("ours_mallocs")
            verdict = None if m is None else ("yes" if m < 0.001 else "no")
        entry["spec_bar"] = bar
        entry["meets_bar"] = verdict
        merged_rows[key] = entry
        printed.append([
            label,
            fmt(entry.get("ours"), 1),
            fmt(entry.get("cpython_3.11"), 1),
            fmt(entry.get("cpython_3.13"), 1),
            fmt(entry.get("stream"), 1),
            fmt(entry.get("channel"), 1),
            fmt(entry.get("hand"), 1),
            fmt(entry.get("ours_over_3.11"), 2, "x"),
            fmt(entry.get("ours_over_3.13"), 2, "x"),
            fmt(entry.get("ours_mallocs"), 3),
            (bar + (f": {verdict}" if verdict else "")) if bar else "",
        ])

    headers = ["ns per element (median)", "ours", "CPython 3.11", "CPython 3.13", "stream",
               "channel", "hand-written", "ours/3.11", "ours/3.13", "mallocs/elem [pb]",
               "SPEC bar"]
    print(table(headers, printed, right=set(range(1, 10))))
    if rates:
        runs = "/".join(str(n) for n in sorted({r["runs"] for r in rates.values()}))
        lifecycle = SWIFT_BENCHMARKS_BY_ROW["lifecycle", "ours"]
        elements = "/".join(f"{n:,}" for n in sorted(
            {r["elements"] for name, r in rates.items() if name != lifecycle}))
        lives = rates.get(lifecycle, {}).get("elements")
        print(f"Swift ns: GeneratorMeasurements, consumer in a Task.detached, the cooperative pool "
              f"free; median of {runs} runs of {elements} elements"
              + (f" ({lives:,} generators for create/close)" if lives else "") + ". "
              "[pb]: package-benchmark's malloc counter.")
    else:
        print("Swift ns: none (no elementRates from GeneratorMeasurements).")

    # --- every Swift workload: both sources ------------------------------------------------------
    package_benchmark = {}
    detail = []
    for name in SWIFT_BENCHMARKS:
        rate = rates.get(name, {})
        pb = harness.get(name, {})
        if not rate and not pb:
            continue
        package_benchmark[name] = pb
        detail.append([
            name,
            fmt(rate.get("ns_per_element"), 1),
            fmt(rate.get("min_ns_per_element"), 1),
            fmt(rate.get("elements"), 0),
            fmt(pb.get("mallocs_per_element"), 4),
            fmt(pb.get("ns_per_element"), 1),
            fmt(pb.get("elements"), 0),
        ])
    if detail:
        print()
        print(table(["Swift, per element", "median ns", "min ns", "N", "mallocs [pb]",
                     "ns [pb harness]", "N [pb]"], detail))
        print("[pb harness] ns: package-benchmark's wall clock. Its harness blocks a "
              "cooperative-pool thread on a semaphore while an async benchmark runs, so the body "
              "and the consumer share what is left of the pool (one thread on 2 CPUs): not the "
              "element rate of a free pool, and not what the SPEC bars are checked against.")

    # --- the other figures ----------------------------------------------------------------------
    figures = {}
    other = []

    def py(version, *path):
        value = cpython.get(version)
        for part in path:
            if value is None:
                return None
            value = value.get(part)
        return value

    if measurements and all(measurements.get(k) for k in ("slowConsumer", "memory", "shutdown")):
        s = measurements["slowConsumer"]
        m = measurements["memory"]
        d = measurements["shutdown"]
        n = measurements["generators"]
        figures["slow_consumer_cpu_ratio"] = s["cpuRatio"]
        figures["slow_consumer"] = s
        other.append([
            f"slow consumer CPU, generator / AsyncThrowingStream ({s['elements']} elem, "
            f"{s['pauseMicroseconds']} us sleeps)",
            fmt(s["cpuRatio"], 2, "x"), "-", "-", "<= 1.5x" + (
                ": yes" if s["cpuRatio"] <= 1.5 else ": no")])
        other.append([
            "  extra CPU per element vs. the stream", fmt(s["extraCPUMicrosecondsPerElement"], 2, " us"),
            "-", "-", ""])
        figures["bytes_per_suspended_generator"] = {
            "ours_heap": m["heapBytesPerGenerator"], "ours_resident": m["residentBytesPerGenerator"],
            **{f"cpython_{v}_tracemalloc": py(v, "memory", "tracemalloc_bytes_per_generator") for v in labels},
            **{f"cpython_{v}_resident": py(v, "memory", "resident_bytes_per_generator") for v in labels},
        }
        other.append([
            f"bytes per suspended generator (malloc heap / tracemalloc), over {n:,}",
            fmt(m["heapBytesPerGenerator"], 0, " B"),
            fmt(py("3.11", "memory", "tracemalloc_bytes_per_generator"), 0, " B"),
            fmt(py("3.13", "memory", "tracemalloc_bytes_per_generator"), 0, " B"),
            "<= 1,600 B" + (": yes" if m["heapBytesPerGenerator"] <= 1600 else ": no")])
        other.append([
            "  resident bytes per suspended generator",
            fmt(m["residentBytesPerGenerator"], 0, " B"),
            fmt(py("3.11", "memory", "resident_bytes_per_generator"), 0, " B"),
            fmt(py("3.13", "memory", "resident_bytes_per_generator"), 0, " B"), ""])
        figures["shutdown_seconds"] = {
            "generators": n,
            "ours_scope_exit": d["scopeExitSeconds"],
            "ours_concurrent_close": m["concurrentCloseSeconds"],
            **{f"cpython_{v}_shutdown_asyncgens": py(v, "shutdown", "shutdown_asyncgens_seconds") for v in labels},
        }
        other.append([
            f"shut down {n:,} suspended (scope exit / loop.shutdown_asyncgens)",
            fmt(d["scopeExitSeconds"] * 1e3, 0, " ms"),
            fmt((py("3.11", "shutdown", "shutdown_asyncgens_seconds") or math.nan) * 1e3, 0, " ms"),
            fmt((py("3.13", "shutdown", "shutdown_asyncgens_seconds") or math.nan) * 1e3, 0, " ms"),
            "goal < 1 s" + (": yes" if d["scopeExitSeconds"] < 1 else ": no")])
        other.append([
            f"  close {n:,} concurrently (task group / -)",
            fmt(m["concurrentCloseSeconds"] * 1e3, 0, " ms"), "-", "-", ""])
        if d["stillOpenAfterExit"] or d["trackedAtExit"] != n:
            problems.append(f"scope shutdown: tracked {d['trackedAtExit']} of {n}, "
                            f"{d['stillOpenAfterExit']} still open after exit")
    steady = merged_rows.get("steady", {}).get("ours_mallocs")
    figures["mallocs_per_element_steady_state"] = steady
    other.append([
        "mallocs per element, steady-state next() [pb] "
        f"(N = {swift.get('steady', {}).get('ours_mallocs_elements', '-')})",
        fmt(steady, 4), "-", "-", "0" + ("" if steady is None else (": yes" if steady < 0.001 else ": no"))])

    print()
    print(table(["figure", "ours", "CPython 3.11", "CPython 3.13", "SPEC bar"], other,
                right={1, 2, 3}))
    for version in labels:
        if version not in cpython:
            print(f"(CPython {version}: not run)")
    print("Ratios are within this one run on a shared, noisy machine; absolute figures drift "
          "between runs." + (" --quick: small N, few runs." if args.quick else ""))
    for problem in problems:
        print(f"warning: {problem}", file=sys.stderr)

    if args.json:
        merged = {
            "generated": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "quick": args.quick,
            "machine": {"system": platform.system(), "release": platform.release(),
                        "machine": platform.machine()},
            "per_element_ns": merged_rows,
            "per_element_ns_source": "GeneratorMeasurements (consumer in Task.detached, pool free)"
                                     "; *_mallocs: package-benchmark",
            "package_benchmark_harness": package_benchmark,
            "figures": figures,
            "cpython_versions": {v: cpython[v]["version"] for v in cpython},
            "problems": problems,
            "sources": {"jmh": args.jmh, "measurements": args.measurements,
                        "cpython": dict(item.partition("=")[::2] for item in args.cpython)},
        }
        with open(args.json, "w") as out:
            json.dump(merged, out, indent=2)
            out.write("\n")
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
