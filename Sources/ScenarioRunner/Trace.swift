import AsyncGenerators
import Foundation

/// One event of a trace (SCENARIOS.md, "Trace").
enum TraceEvent: Sendable, Equatable {
  /// Operation `index` returned `outcome`, leaving the generator in `state`.
  case op(index: Int, op: String, outcome: OpOutcome, state: AsyncGeneratorState)
  /// A `yield` returned this value (`nil` for `next`).
  case resumed(Int?)
  case log(String)
  /// A handler was entered for the error with this name.
  case caught(String)
  /// A `finally` part was entered.
  case finally
  /// The runner dropped its reference to the generator.
  case dropped
  /// The scope reported the error with this name.
  case finalizeError(String)
  /// The scope has finished.
  case done

  /// The event as a JSON object, with its keys in the order SCENARIOS.md (and CPython's
  /// reference runner) writes them.
  var json: JSONValue {
    var members: [(key: String, value: JSONValue)]
    switch self {
    case .op(let index, let op, let outcome, let state):
      members = [("ev", .string("op")), ("i", .integer(index)), ("op", .string(op))]
      switch outcome {
      case .value(let value):
        members += [("outcome", .string("value")), ("value", .integer(value))]
      case .stop: members.append(("outcome", .string("stop")))
      case .ok: members.append(("outcome", .string("ok")))
      case .error(let name): members += [("outcome", .string("error")), ("error", .string(name))]
      }
      members.append(("state", .string(state.traceName)))
    case .resumed(let value):
      members = [("ev", .string("resumed")), ("value", value.map { .integer($0) } ?? .null)]
    case .log(let tag): members = [("ev", .string("log")), ("tag", .string(tag))]
    case .caught(let name): members = [("ev", .string("caught")), ("error", .string(name))]
    case .finally: members = [("ev", .string("finally"))]
    case .dropped: members = [("ev", .string("dropped"))]
    case .finalizeError(let name):
      members = [("ev", .string("finalize_error")), ("error", .string(name))]
    case .done: members = [("ev", .string("done"))]
    }
    return .object(JSONObject(members))
  }
}

/// How an operation ended.
enum OpOutcome: Sendable, Equatable {
  /// `next`, `send` or `throw` returned an element.
  case value(Int)
  /// `next`, `send` or `throw` returned `nil`.
  case stop
  /// `close` returned.
  case ok
  /// The operation threw the error with this name.
  case error(String)
}

extension AsyncGeneratorState {
  /// The state's name in a trace.
  var traceName: String {
    switch self {
    case .created: "created"
    case .running: "running"
    case .suspended: "suspended"
    case .closed: "closed"
    }
  }
}

/// The name of `error` in a trace: `E1`...`E3`, `GeneratorExit`, `IgnoredGeneratorExit`,
/// `AlreadyRunning`, `SendToJustStarted`, `CancellationError`, or else its type's name.
func traceName(of error: any Error) -> String {
  switch error {
  case let error as ScenarioError: error.name
  case is GeneratorExit: "GeneratorExit"
  case is CancellationError: "CancellationError"
  case AsyncGeneratorError.alreadyRunning: "AlreadyRunning"
  case AsyncGeneratorError.ignoredGeneratorExit: "IgnoredGeneratorExit"
  case AsyncGeneratorError.sendToJustStarted: "SendToJustStarted"
  case AsyncGeneratorError.yieldOutsideBody: "YieldOutsideBody"
  case AsyncGeneratorError.shutdownTimedOut: "ShutdownTimedOut"
  default: String(describing: type(of: error))
  }
}

/// The events of one scenario, appended from whichever task they happen in.
final class TraceLog: @unchecked Sendable {
  // NSLock rather than `Synchronization.Mutex`, which ThreadSanitizer misreports.
  private let lock = NSLock()
  private var recorded: [TraceEvent] = []

  func append(_ event: TraceEvent) {
    lock.withLock { recorded.append(event) }
  }

  var events: [TraceEvent] {
    lock.withLock { recorded }
  }
}

// MARK: - Comparing

/// The comparable form of a trace (SCENARIOS.md, "Comparing"): a `throw` op's
/// `"outcome":"value"` with `"value": null` becomes `"outcome":"stop"`, and the trace ends
/// after its first event whose error is `IgnoredGeneratorExit`, or its first `unraisable`
/// event.
func normalizedForComparison(_ trace: [JSONValue]) -> [JSONValue] {
  var normalized: [JSONValue] = []
  for var event in trace {
    if case .object(var object) = event, object["ev"] == .string("op"),
      object["op"] == .string("throw"), object["outcome"] == .string("value"),
      object["value"] == .null
    {
      object.members.removeAll { $0.key == "value" }
      if let index = object.members.firstIndex(where: { $0.key == "outcome" }) {
        object.members[index].value = .string("stop")
      }
      event = .object(object)
    }
    normalized.append(event)
    if case .object(let object) = event,
      object["error"] == .string("IgnoredGeneratorExit") || object["ev"] == .string("unraisable")
    {
      break
    }
  }
  return normalized
}
