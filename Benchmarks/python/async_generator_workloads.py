#!/usr/bin/env python3
"""CPython's side of the comparison: the twins of the Swift workloads
(Sources/BenchmarkWorkloads/Workloads.swift), measured under asyncio and printed as JSON.

    python3 async_generator_workloads.py [--quick] [--json FILE]

Time per element: each workload moves N ints from an async generator to a consumer that adds
them up, timed with perf_counter_ns around the whole workload (generator creation and aclose
included, as on the Swift side), divided by N. One warm-up run, then the median of --runs runs.

Memory per suspended generator: tracemalloc's traced bytes before vs. after creating
--generators generators and taking the first element of each (each body suspended at its first
yield; asyncio's per-generator bookkeeping included), divided by their number. Resident bytes
(/proc/self/statm) likewise, in a separate run without tracemalloc.

Shutdown: the time loop.shutdown_asyncgens() takes to close that many suspended generators (the
event loop's part, which withAsyncGeneratorScope plays in Swift).

Uses only the standard library, so it runs under any CPython 3.8+ as it is.
"""

import argparse
import asyncio
import gc
import json
import os
import platform
import statistics
import sys
import time
import tracemalloc


# --- the generators (keep in step with Workloads.swift) ---------------------------------------


async def gen(n):
    for i in range(n):
        yield i


async def forever():
    i = 0
    while True:
        yield i
        i += 1


async def echo():
    v = 0
    while True:
        v = yield v


class Boom(Exception):
    pass


async def catcher():
    i = 0
    while True:
        try:
            yield i
        except Boom:
            i += 1


# --- the element workloads ---------------------------------------------------------------------


async def iterate(n):
    """`async for` over a yield-only async generator."""
    total = 0
    async for x in gen(n):
        total += x
    return total


async def send(n):
    """`asend` ping-pong: the body yields back what it was sent."""
    g = echo()
    total = await g.__anext__()
    for i in range(n):
        total += await g.asend(i)
    await g.aclose()
    return total


async def throw(n):
    """`athrow(Boom())`, caught by the body, which yields again."""
    g = catcher()
    total = await g.__anext__()
    for _ in range(n):
        total += await g.athrow(Boom())
    await g.aclose()
    return total


async def lifecycle(n):
    """Create + first `__anext__` + `aclose`, n times (one element = one generator's life)."""
    total = 0
    for _ in range(n):
        g = forever()
        total += await g.__anext__()
        await g.aclose()
    return total


WORKLOADS = {
    # id: (function, what it is, elements in full mode, elements in quick mode)
    "iterate": (iterate, "async for over `for i in range(n): yield i`", 1_000_000, 20_000),
    "send": (send, "asend ping-pong (`v = yield v`)", 1_000_000, 20_000),
    "throw": (throw, "athrow(Boom()) caught, yield again", 1_000_000, 20_000),
    "lifecycle": (lifecycle, "create + first __anext__ + aclose", 100_000, 2_000),
}


async def time_workload(function, n, runs):
    await function(min(n, 10_000))  # warm-up
    samples = []
    for _ in range(runs):
        gc.collect()
        start = time.perf_counter_ns()
        await function(n)
        samples.append((time.perf_counter_ns() - start) / n)
    return samples


# --- memory and shutdown -------------------------------------------------------------------------


def resident_bytes():
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


async def make_suspended(generators):
    for k in range(len(generators)):
        g = forever()
        await g.__anext__()
        generators[k] = g


def measure_memory(count):
    loop = asyncio.new_event_loop()
    try:
        generators = [None] * count
        gc.collect()
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        loop.run_until_complete(make_suspended(generators))
        traced = tracemalloc.get_traced_memory()[0] - before
        tracemalloc.stop()
        loop.run_until_complete(loop.shutdown_asyncgens())
    finally:
        loop.close()
    return traced / count


def measure_shutdown(count):
    loop = asyncio.new_event_loop()
    try:
        generators = [None] * count
        gc.collect()
        rss_before = resident_bytes()
        loop.run_until_complete(make_suspended(generators))
        rss_after = resident_bytes()
        start = time.perf_counter()
        loop.run_until_complete(loop.shutdown_asyncgens())
        seconds = time.perf_counter() - start
        still_open = sum(1 for g in generators if g.ag_frame is not None)
    finally:
        loop.close()
    rss = None
    if rss_before is not None and rss_after is not None:
        rss = (rss_after - rss_before) / count
    return seconds, rss, still_open


# --- main ------------------------------------------------------------------------------------------


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small N, 3 runs (for CI)")
    parser.add_argument("--runs", type=int, help="timed runs per workload (default 7, 3 quick)")
    parser.add_argument("--generators", type=int, default=100_000,
                        help="suspended generators for memory and shutdown (default 100000)")
    parser.add_argument("--json", help="also write the JSON to this file")
    args = parser.parse_args()
    runs = args.runs or (3 if args.quick else 7)

    async def time_all():
        results = {}
        for key, (function, description, full_n, quick_n) in WORKLOADS.items():
            n = quick_n if args.quick else full_n
            samples = await time_workload(function, n, runs)
            results[key] = {
                "description": description,
                "elements": n,
                "ns_per_element": statistics.median(samples),
                "runs_ns_per_element": samples,
            }
        return results

    loop = asyncio.new_event_loop()
    try:
        workloads = loop.run_until_complete(time_all())
        loop.run_until_complete(loop.shutdown_asyncgens())
    finally:
        loop.close()

    traced = measure_memory(args.generators)
    shutdown_seconds, rss, still_open = measure_shutdown(args.generators)

    report = {
        "implementation": platform.python_implementation(),
        "version": platform.python_version(),
        "executable": sys.executable,
        "quick": args.quick,
        "runs": runs,
        "workloads": workloads,
        "memory": {
            "generators": args.generators,
            "tracemalloc_bytes_per_generator": traced,
            "resident_bytes_per_generator": rss,
        },
        "shutdown": {
            "generators": args.generators,
            "shutdown_asyncgens_seconds": shutdown_seconds,
            "still_open_after": still_open,
        },
    }
    text = json.dumps(report, indent=2)
    if args.json:
        with open(args.json, "w") as out:
            out.write(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
