#!/usr/bin/env python3
"""Seeded random generator of generator scenarios (see SCENARIOS.md).

    generate_scenarios.py --seed N --count K [--max-depth D] [--prefix P]

writes a JSON array of K scenarios named `<P><seed>-<i>` (P defaults to "s")
on stdout. The output depends only on the arguments (random.Random(seed)), so
a seed names a set of scenarios for good. Standard library only.

The weights favour the cases that break implementations: nested
try/except/finally (statements nested up to --max-depth, default 5), GeneratorExit handlers
that await, yield, log, raise or re-raise, finally parts that yield and
await, short `repeat` loops with yields, `return` in the middle, and op
sequences of 1-8 ops mixing next/send/throw/close on created, suspended and
closed generators (throw/close/send first, ops after close, repeated closes).
"""

import argparse
import json
import random
import sys

MATCH_WEIGHTS = (("E1", 26), ("E2", 14), ("E3", 5), ("GeneratorExit", 30), ("any", 25))
ERROR_WEIGHTS = (("E1", 45), ("E2", 35), ("E3", 20))

# statement weights by the context of the block being generated
CONTEXT_WEIGHTS = {
    #            yield log await raise return repeat try
    "body":     (30,   9,   8,    3,    2,     10,    26),
    "loop":     (36,   9,   8,    4,    2,     4,     18),
    "try":      (34,   8,   8,    8,    1,     6,     18),
    "handler":  (16,   16,  16,   13,   7,     3,     10),
    "ge":       (14,   16,  22,   12,   8,     2,     8),   # except GeneratorExit / any
    "finally":  (18,   16,  20,   9,    3,     3,     9),
}
KINDS = ("yield", "log", "await", "raise", "return", "repeat", "try")

FIRST_OP_WEIGHTS = (("next", 70), ("send", 8), ("throw", 10), ("close", 12))
LATER_OP_WEIGHTS = (("next", 50), ("send", 20), ("throw", 18), ("close", 12))
OP_COUNT_WEIGHTS = ((1, 5), (2, 10), (3, 14), (4, 16), (5, 16), (6, 14), (7, 13), (8, 12))
REPEAT_WEIGHTS = ((0, 8), (1, 22), (2, 42), (3, 28))


def pick(rng, weighted):
    total = sum(w for _, w in weighted)
    r = rng.randrange(total)
    for item, w in weighted:
        if r < w:
            return item
        r -= w
    raise AssertionError


class ScenarioMaker:
    def __init__(self, rng, max_depth):
        self.rng = rng
        self.max_depth = max_depth

    # -- bodies -------------------------------------------------------------

    def scenario_body(self):
        self.value = 0
        self.tag = 0
        self.budget = self.rng.randint(6, 18)  # statements, roughly
        body = self.block(1, "body", 1, 5)
        if not any(self._has_yield(s) for s in body) and self.rng.random() < 0.9:
            body.insert(self.rng.randint(0, len(body)), self.yield_stmt())
        return body

    def _has_yield(self, stmt):
        if "yield" in stmt:
            return True
        for key in ("body", "try", "finally"):
            if key in stmt and isinstance(stmt[key], list):
                if any(self._has_yield(s) for s in stmt[key]):
                    return True
        return any(self._has_yield(s) for h in stmt.get("except", []) for s in h["body"])

    def yield_stmt(self):
        self.value += 1
        return {"yield": self.value}

    def log_stmt(self):
        self.tag += 1
        return {"log": f"L{self.tag}"}

    def block(self, depth, context, lo, hi):
        """Statements for a block whose statements sit at nesting `depth`."""
        if depth > 2:
            hi = max(lo, hi - (depth - 2))
        n = self.rng.randint(lo, hi)
        out = []
        for _ in range(n):
            out.append(self.statement(depth, context))
        return out

    def statement(self, depth, context):
        self.budget -= 1
        weights = list(zip(KINDS, CONTEXT_WEIGHTS[context]))
        if depth >= self.max_depth or self.budget <= 0:
            weights = [(k, w) for k, w in weights if k not in ("repeat", "try")]
        else:
            # compound statements get rarer as they nest
            weights = [(k, w if k not in ("repeat", "try") else max(1, w - 4 * (depth - 1)))
                       for k, w in weights]
        kind = pick(self.rng, weights)
        rng = self.rng
        if kind == "yield":
            return self.yield_stmt()
        if kind == "log":
            return self.log_stmt()
        if kind == "await":
            return {"await": True}
        if kind == "raise":
            return {"raise": pick(rng, ERROR_WEIGHTS)}
        if kind == "return":
            return {"return": True}
        if kind == "repeat":
            return {"repeat": pick(rng, REPEAT_WEIGHTS),
                    "body": self.block(depth + 1, "loop", 1, 2)}
        # try
        stmt = {"try": self.block(depth + 1, "try", 1, 3)}
        nh = pick(rng, ((0, 22), (1, 52), (2, 22), (3, 4)))
        handlers = []
        for _ in range(nh):
            match = pick(rng, MATCH_WEIGHTS)
            ctx = "ge" if match in ("GeneratorExit", "any") else "handler"
            h = {"match": match,
                 "body": self.block(depth + 1, ctx, 0, 3),
                 "reraise": rng.random() < (0.45 if match == "GeneratorExit" else 0.3)}
            handlers.append(h)
        if handlers:
            stmt["except"] = handlers
        if not handlers or rng.random() < 0.5:
            if handlers or rng.random() < 0.93:
                stmt["finally"] = self.block(depth + 1, "finally", 0, 3)
        return stmt

    # -- ops ----------------------------------------------------------------

    def ops(self, body):
        rng = self.rng
        caught = sorted(self._handler_errors(body))
        n = pick(rng, OP_COUNT_WEIGHTS)
        out = []
        send_value = 100
        i = 0
        while i < n:
            kind = pick(rng, FIRST_OP_WEIGHTS if i == 0 else LATER_OP_WEIGHTS)
            if kind == "send":
                send_value += 1
                out.append({"op": "send", "value": send_value})
            elif kind == "throw":
                # mostly errors the body has a handler for, so throws get caught
                if caught and rng.random() < 0.6:
                    error = rng.choice(caught)
                else:
                    error = pick(rng, ERROR_WEIGHTS)
                out.append({"op": "throw", "error": error})
            else:
                out.append({"op": kind})
            if kind == "close" and rng.random() < 0.5:
                n = min(n, i + 1 + rng.randint(0, 2))  # a few ops after close
            i += 1
        return out

    def _handler_errors(self, body):
        found = set()
        for s in body:
            for h in s.get("except", []):
                if h["match"] in ("E1", "E2", "E3"):
                    found.add(h["match"])
                found |= self._handler_errors(h["body"])
            for key in ("body", "try", "finally"):
                if key in s and isinstance(s[key], list):
                    found |= self._handler_errors(s[key])
        return found


def generate(seed, count, max_depth=5, prefix="s"):
    rng = random.Random(seed)
    maker = ScenarioMaker(rng, max_depth)
    scenarios = []
    for i in range(count):
        body = maker.scenario_body()
        scenarios.append({"name": f"{prefix}{seed}-{i}", "body": body, "ops": maker.ops(body)})
    return scenarios


def dump(scenarios, out):
    out.write("[")
    for i, sc in enumerate(scenarios):
        out.write("\n" if i == 0 else ",\n")
        out.write(json.dumps(sc, separators=(",", ":")))
    out.write("\n]\n" if scenarios else "]\n")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--max-depth", type=int, default=5,
                    help="deepest statement nesting (1 = flat body); default 5")
    ap.add_argument("--prefix", default="s", help="scenario name prefix (default s)")
    args = ap.parse_args(argv)
    if args.count < 0 or not 1 <= args.max_depth <= 32:
        ap.error("--count must be >= 0 and --max-depth within 1...32")
    dump(generate(args.seed, args.count, args.max_depth, args.prefix), sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
