import AsyncGenerators

/// A scenario: a generator body in the statement language of SCENARIOS.md and the
/// operations a consumer performs on the generator, in order.
struct Scenario: Sendable, Equatable {
  var name: String?
  var body: [Statement]
  var ops: [Operation]
}

/// One statement of a scenario body.
enum Statement: Sendable, Equatable {
  /// `got = yield value`, then a `resumed` event carrying `got`.
  case yield(Int)
  /// `await asyncio.sleep(0)`: `await Task.yield()`.
  case await
  /// A `log` event with this tag.
  case log(String)
  /// Throws the user error.
  case raise(UserError)
  /// Returns from the body.
  case `return`
  /// Runs the block this many times.
  case `repeat`(Int, [Statement])
  /// `try` / `except` / `finally`; `finally` is `nil` when the statement has none.
  case `try`([Statement], handlers: [Handler], finally: [Statement]?)
}

/// An `except` clause of a `try` statement.
struct Handler: Sendable, Equatable {
  var match: Match
  var body: [Statement]
  var reraise: Bool
}

/// Which errors a handler catches.
enum Match: String, Sendable, Equatable, CaseIterable {
  case e1 = "E1"
  case e2 = "E2"
  case e3 = "E3"
  case generatorExit = "GeneratorExit"
  /// Python's `except BaseException`: everything.
  case any

  func matches(_ error: any Error) -> Bool {
    switch self {
    case .any: true
    case .generatorExit: error is GeneratorExit
    case .e1, .e2, .e3: (error as? ScenarioError)?.name == rawValue
    }
  }
}

/// The user errors a scenario raises or throws in.
enum UserError: String, Sendable, Equatable, CaseIterable {
  case e1 = "E1"
  case e2 = "E2"
  case e3 = "E3"
}

/// One consumer operation on the generator.
enum Operation: Sendable, Equatable {
  case next
  case send(Int)
  case throwError(UserError)
  case close

  /// The operation's name in a trace.
  var name: String {
    switch self {
    case .next: "next"
    case .send: "send"
    case .throwError: "throw"
    case .close: "close"
    }
  }
}

/// The user error `E1`, `E2` or `E3`, as a scenario body raises it or an operation throws it.
struct ScenarioError: Error, Sendable, Hashable, CustomStringConvertible {
  let name: String

  init(_ name: String) {
    self.name = name
  }

  var description: String { name }
}
