#!/usr/bin/env python3
"""CPython reference runner for generator scenarios (conformance oracle).

Reads a JSON array of scenarios on stdin and writes a JSON array of traces,
one per scenario, in order, on stdout. The formats are defined in
shared/conformance/SCENARIOS.md; the exact input rules are in
Conformance/README.md ("Input rules").

Each scenario body is translated into the source text of a real
`async def gen():` async generator (real `yield`, `try/except/finally`,
`for _ in range(n)`), which is exec'd and driven by the main coroutine of a
fresh `asyncio.run(...)`, so CPython alone decides every behaviour.

Standard library only; Python 3.12+ (needs sys.exception and
inspect.getasyncgenstate). Exit status: 0 on success, 2 on rejected input.
"""

import asyncio
import gc
import inspect
import json
import sys
import weakref

MAX_INPUT_BYTES = 16 * 1024 * 1024
MAX_DEPTH = 32
MAX_REPEAT = 1000
INT_MIN = -(2 ** 63)
INT_MAX = 2 ** 63 - 1

ERROR_NAMES = ("E1", "E2", "E3")
MATCHES = ("E1", "E2", "E3", "GeneratorExit", "any")
OPS = ("next", "send", "throw", "close")
STATEMENT_KINDS = ("yield", "await", "log", "raise", "return", "repeat", "try")
# extra keys a statement of each kind may carry (besides its kind key)
STATEMENT_EXTRA = {
    "yield": ((), ()),            # (required, optional)
    "await": ((), ()),
    "log": ((), ()),
    "raise": ((), ()),
    "return": ((), ()),
    "repeat": (("body",), ()),
    "try": ((), ("except", "finally")),
}


# --------------------------------------------------------------------------
# Scenario errors (distinct Exception subclasses)

class ScenarioError(Exception):
    """Base of the user errors; never raised itself."""


class E1(ScenarioError):
    pass


class E2(ScenarioError):
    pass


class E3(ScenarioError):
    pass


ERROR_CLASSES = {"E1": E1, "E2": E2, "E3": E3}


def error_name(exc):
    """Map a Python exception to the trace name of SCENARIOS.md."""
    if isinstance(exc, ScenarioError):
        return type(exc).__name__
    if isinstance(exc, GeneratorExit):
        return "GeneratorExit"
    if isinstance(exc, asyncio.CancelledError):
        return "CancellationError"
    if isinstance(exc, RuntimeError):
        msg = str(exc)
        if "ignored GeneratorExit" in msg:
            return "IgnoredGeneratorExit"
        if "already running" in msg:
            return "AlreadyRunning"
    if isinstance(exc, TypeError) and "just-started" in str(exc):
        return "SendToJustStarted"
    return type(exc).__name__


# --------------------------------------------------------------------------
# Input validation

class InputError(Exception):
    pass


def _reject_constant(name):
    raise InputError(f"non-integer number {name}")


def _no_duplicates(pairs):
    obj = {}
    for k, v in pairs:
        if k in obj:
            raise InputError(f"duplicate key {k!r}")
        obj[k] = v
    return obj


def _is_int(v):
    return type(v) is int


def _check_int(v, where):
    if not _is_int(v):
        raise InputError(f"{where}: expected an integer, got {json.dumps(v)[:40]}")
    if not INT_MIN <= v <= INT_MAX:
        raise InputError(f"{where}: integer out of the 64-bit range")


def _check_str(v, where):
    if type(v) is not str:
        raise InputError(f"{where}: expected a string")
    try:
        v.encode("utf-8")
    except UnicodeEncodeError:
        raise InputError(f"{where}: string is not valid Unicode (lone surrogate)")


def _check_keys(obj, required, optional, where):
    for k in required:
        if k not in obj:
            raise InputError(f"{where}: missing key {k!r}")
    for k in obj:
        if k not in required and k not in optional:
            raise InputError(f"{where}: unknown key {k!r}")


def _check_list(v, where):
    if type(v) is not list:
        raise InputError(f"{where}: expected an array")


def validate_block(block, depth, where):
    _check_list(block, where)
    for i, stmt in enumerate(block):
        validate_statement(stmt, depth, f"{where}[{i}]")


def validate_statement(stmt, depth, where):
    if depth > MAX_DEPTH:
        raise InputError(f"{where}: statements nested deeper than {MAX_DEPTH}")
    if type(stmt) is not dict:
        raise InputError(f"{where}: a statement must be an object")
    kinds = [k for k in STATEMENT_KINDS if k in stmt]
    if len(kinds) != 1:
        if not kinds:
            raise InputError(f"{where}: unknown statement (keys {sorted(stmt)})")
        raise InputError(f"{where}: statement has several kinds {kinds}")
    kind = kinds[0]
    required, optional = STATEMENT_EXTRA[kind]
    _check_keys(stmt, (kind,) + required, optional, where)
    v = stmt[kind]
    w = f"{where}.{kind}"
    if kind == "yield":
        _check_int(v, w)
    elif kind in ("await", "return"):
        if v is not True:
            raise InputError(f"{w}: expected true")
    elif kind == "log":
        _check_str(v, w)
    elif kind == "raise":
        if type(v) is not str or v not in ERROR_NAMES:
            raise InputError(f"{w}: expected one of E1, E2, E3")
    elif kind == "repeat":
        _check_int(v, w)
        if not 0 <= v <= MAX_REPEAT:
            raise InputError(f"{w}: repeat count must be within 0...{MAX_REPEAT}")
        validate_block(stmt["body"], depth + 1, f"{where}.body")
    elif kind == "try":
        validate_block(v, depth + 1, w)
        if "except" in stmt:
            handlers = stmt["except"]
            _check_list(handlers, f"{where}.except")
            for j, h in enumerate(handlers):
                hw = f"{where}.except[{j}]"
                if type(h) is not dict:
                    raise InputError(f"{hw}: a handler must be an object")
                _check_keys(h, ("match", "body"), ("reraise",), hw)
                if type(h["match"]) is not str or h["match"] not in MATCHES:
                    raise InputError(f"{hw}.match: expected one of {', '.join(MATCHES)}")
                if "reraise" in h and type(h["reraise"]) is not bool:
                    raise InputError(f"{hw}.reraise: expected a boolean")
                validate_block(h["body"], depth + 1, f"{hw}.body")
        if "finally" in stmt:
            validate_block(stmt["finally"], depth + 1, f"{where}.finally")


def validate_op(op, where):
    if type(op) is not dict:
        raise InputError(f"{where}: an op must be an object")
    if "op" not in op:
        raise InputError(f"{where}: missing key 'op'")
    kind = op["op"]
    if type(kind) is not str or kind not in OPS:
        raise InputError(f"{where}.op: expected one of {', '.join(OPS)}")
    if kind == "send":
        _check_keys(op, ("op", "value"), (), where)
        _check_int(op["value"], f"{where}.value")
    elif kind == "throw":
        _check_keys(op, ("op", "error"), (), where)
        if type(op["error"]) is not str or op["error"] not in ERROR_NAMES:
            raise InputError(f"{where}.error: expected one of E1, E2, E3")
    else:
        _check_keys(op, ("op",), (), where)


MAX_STEPS = 10_000_000  # statements all bodies of one input may run (repeats multiply)


def count_steps(block, limit):
    """At most how many statements `block` runs (each once per pass, a repeat its count
    times its body), or limit + 1 once it surely exceeds `limit`."""
    total = 0
    for stmt in block:
        if "repeat" in stmt:
            inner = count_steps(stmt["body"], limit)
            count = stmt["repeat"]
            total += 1 + (limit + 1 if count > 0 and inner > limit // count else count * inner)
        elif "try" in stmt:
            total += 1 + count_steps(stmt["try"], limit) + count_steps(stmt.get("finally") or [], limit)
            for handler in stmt.get("except") or []:
                total += count_steps(handler["body"], limit)
        else:
            total += 1
        if total > limit:
            return limit + 1
    return total


def validate(doc):
    if type(doc) is not list:
        raise InputError("top level: expected an array of scenarios")
    steps = 0
    for i, sc in enumerate(doc):
        where = f"scenario {i}"
        if type(sc) is not dict:
            raise InputError(f"{where}: a scenario must be an object")
        _check_keys(sc, ("body", "ops"), ("name",), where)
        if "name" in sc:
            _check_str(sc["name"], f"{where}.name")
        validate_block(sc["body"], 1, f"{where}.body")
        steps += count_steps(sc["body"], MAX_STEPS - steps)
        if steps > MAX_STEPS:
            raise InputError(f"{where}.body: the input's bodies would run more than "
                             f"{MAX_STEPS} statements (repeat counts multiply)")
        _check_list(sc["ops"], f"{where}.ops")
        for j, op in enumerate(sc["ops"]):
            validate_op(op, f"{where}.ops[{j}]")


def parse_input(data):
    """bytes -> validated list of scenarios, or raise InputError."""
    if len(data) > MAX_INPUT_BYTES:
        raise InputError(f"input larger than {MAX_INPUT_BYTES} bytes (16 MiB)")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise InputError(f"input is not UTF-8 ({e.reason} at byte {e.start})")
    try:
        doc = json.loads(text, object_pairs_hook=_no_duplicates,
                         parse_constant=_reject_constant)
    except json.JSONDecodeError as e:
        raise InputError(f"invalid JSON: {e.msg} at line {e.lineno} column {e.colno}")
    except RecursionError:
        raise InputError("invalid JSON: nested too deeply")
    except ValueError as e:  # e.g. an integer literal with too many digits
        raise InputError(f"invalid JSON: {str(e).splitlines()[0]}")
    validate(doc)
    return doc


# --------------------------------------------------------------------------
# Translation to Python source

class _Source:
    def __init__(self):
        self.lines = []

    def add(self, indent, text):
        self.lines.append("    " * indent + text)


def _emit_block(src, block, indent):
    if not block:
        src.add(indent, "pass")
        return
    for stmt in block:
        _emit_statement(src, stmt, indent)


def _emit_statement(src, stmt, indent):
    if "yield" in stmt:
        src.add(indent, f"got = yield {stmt['yield']!r}")
        src.add(indent, "_ev({'ev': 'resumed', 'value': got})")
    elif "await" in stmt:
        src.add(indent, "await _sleep(0)")
    elif "log" in stmt:
        src.add(indent, f"_ev({{'ev': 'log', 'tag': {stmt['log']!r}}})")
    elif "raise" in stmt:
        src.add(indent, f"raise {stmt['raise']}()")
    elif "return" in stmt:
        src.add(indent, "return")
    elif "repeat" in stmt:
        src.add(indent, f"for _ in range({stmt['repeat']!r}):")
        _emit_block(src, stmt["body"], indent + 1)
    elif "try" in stmt:
        handlers = stmt.get("except", [])
        has_finally = "finally" in stmt
        if not handlers and not has_finally:
            src.add(indent, "if True:")  # a plain block
            _emit_block(src, stmt["try"], indent + 1)
            return
        src.add(indent, "try:")
        _emit_block(src, stmt["try"], indent + 1)
        for h in handlers:
            m = h["match"]
            clause = "BaseException" if m == "any" else m
            # no `as name`: it would cost one more static block (CPython
            # allows only 20); sys.exception() is the caught error
            src.add(indent, f"except {clause}:")
            src.add(indent + 1, "_caught()")
            for s in h["body"]:
                _emit_statement(src, s, indent + 1)
            if h.get("reraise", False):
                src.add(indent + 1, "raise")
        if has_finally:
            src.add(indent, "finally:")
            src.add(indent + 1, "_ev({'ev': 'finally'})")
            for s in stmt["finally"]:
                _emit_statement(src, s, indent + 1)
    else:  # pragma: no cover - validated before
        raise AssertionError(f"unknown statement {stmt!r}")


def translate(body):
    """Return the source text of `async def gen():` for a scenario body."""
    src = _Source()
    src.add(0, "async def gen():")
    _emit_block(src, body, 1)
    # A body with no yield would be a coroutine, not an async generator: an
    # unreachable yield keeps it an async generator without changing what
    # it does (exactly like a Swift body that never yields).
    src.add(1, "return")
    src.add(1, "yield")
    return "\n".join(src.lines) + "\n"


def make_generator_function(body, trace):
    ev = trace.append

    def caught():
        ev({"ev": "caught", "error": error_name(sys.exception())})

    namespace = {
        "_ev": ev,
        "_caught": caught,
        "_sleep": asyncio.sleep,
        "E1": E1, "E2": E2, "E3": E3,
        "__builtins__": {"range": range, "BaseException": BaseException,
                          "GeneratorExit": GeneratorExit},
    }
    code = compile(translate(body), "<scenario>", "exec")
    exec(code, namespace)
    return namespace["gen"]


# --------------------------------------------------------------------------
# Running one scenario

def _state(g):
    s = inspect.getasyncgenstate(g)
    return s[len("AGEN_"):].lower() if s.startswith("AGEN_") else s.lower()


async def _perform(g, i, op):
    kind = op["op"]
    event = {"ev": "op", "i": i, "op": kind}
    try:
        if kind == "next":
            value = await g.__anext__()
        elif kind == "send":
            value = await g.asend(op["value"])
        elif kind == "throw":
            value = await g.athrow(ERROR_CLASSES[op["error"]]())
        else:
            await g.aclose()
            event["outcome"] = "ok"
            value = None
    except StopAsyncIteration:
        event["outcome"] = "stop"
    except BaseException as e:  # noqa: B902 - everything is an outcome here
        event["outcome"] = "error"
        event["error"] = error_name(e)
    else:
        if kind != "close":
            event["outcome"] = "value"
            event["value"] = value
    event["state"] = _state(g)
    return event


# Upper bound on loop iterations spent waiting for the finalizer's aclose()
# task to appear and finish; bodies are finite, so this is only a safety net.
_DRAIN_ROUNDS = 1_000_000


async def _main(gen_function, ops, trace):
    loop = asyncio.get_running_loop()

    def exception_handler(loop, context):
        exc = context.get("exception")
        if exc is not None:
            trace.append({"ev": "finalize_error", "error": error_name(exc)})
        else:
            trace.append({"ev": "finalize_error", "error": None,
                          "message": str(context.get("message"))})

    loop.set_exception_handler(exception_handler)

    g = gen_function()
    for i, op in enumerate(ops):
        trace.append(await _perform(g, i, op))

    # Drop the only reference: a started, unfinished generator is finalized
    # through the loop's asyncgen finalizer hook, which schedules aclose()
    # as a task on this loop.
    ref = weakref.ref(g)
    trace.append({"ev": "dropped"})
    del g
    if ref() is not None:
        gc.collect()

    # Let the loop run until the finalizer's aclose() task has finished.
    me = asyncio.current_task()
    for _ in range(3):
        await asyncio.sleep(0)  # the hook's call_soon_threadsafe creates the task
    task_refs = []
    rounds = 0
    while rounds < _DRAIN_ROUNDS:
        others = [t for t in asyncio.all_tasks() if t is not me]
        if not others:
            break
        task_refs.extend(weakref.ref(t) for t in others)
        rounds += 1
        done, pending = await asyncio.wait(others)
        del done, pending, others
        await asyncio.sleep(0)
    # A failed aclose() task reports its error ("Task exception was never
    # retrieved") to the exception handler when it is destroyed: make that
    # happen now, deterministically, rather than at some later collection.
    if ref() is not None or any(r() is not None for r in task_refs):
        gc.collect()
    if ref() is not None:  # never expected: would make the trace unreliable
        trace.append({"ev": "runner_error", "error": "GeneratorStillAlive",
                      "message": "the generator outlived its scenario"})


def run_scenario(scenario):
    trace = []

    def unraisable_hook(unraisable):
        exc = unraisable.exc_value
        trace.append({"ev": "unraisable",
                      "error": error_name(exc) if exc is not None else None})

    try:
        gen_function = make_generator_function(scenario["body"], trace)
    except (SyntaxError, RecursionError, MemoryError) as e:
        # e.g. CPython allows at most 20 statically nested blocks
        return [{"ev": "unsupported", "error": type(e).__name__,
                 "message": str(e).splitlines()[0] if str(e) else ""}]

    saved_hook = sys.unraisablehook
    sys.unraisablehook = unraisable_hook
    try:
        asyncio.run(_main(gen_function, scenario["ops"], trace))
    except BaseException as e:  # noqa: B902 - never let a scenario escape
        if isinstance(e, KeyboardInterrupt):
            raise
        trace.append({"ev": "runner_error", "error": type(e).__name__,
                      "message": str(e).splitlines()[0] if str(e) else ""})
    finally:
        sys.unraisablehook = saved_hook
    trace.append({"ev": "done"})
    return trace


def _dumps(obj):
    return json.dumps(obj, separators=(",", ":"))


def main(argv=None):
    if sys.version_info < (3, 12):
        sys.stderr.write("reference_runner: needs Python 3.12+ (CPython 3.13 is the oracle)\n")
        return 1
    data = sys.stdin.buffer.read(MAX_INPUT_BYTES + 1)
    try:
        scenarios = parse_input(data)
    except InputError as e:
        sys.stderr.write(f"reference_runner: invalid input: {e}\n")
        return 2
    out = sys.stdout
    out.write("[")
    for i, sc in enumerate(scenarios):
        out.write("\n" if i == 0 else ",\n")
        out.write(_dumps(run_scenario(sc)))
    out.write("\n]\n" if scenarios else "]\n")
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
