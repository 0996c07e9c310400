import Testing

/// Thrown by ``withDeadline(_:sourceLocation:_:)`` when the work did not finish in time.
struct DeadlineExceeded: Error, CustomStringConvertible {
  let duration: Duration

  var description: String { "the test did not finish within \(duration)" }
}

/// Runs `operation`, racing it against a sleep of `duration`; if the sleep wins, records an
/// issue, cancels the work and throws ``DeadlineExceeded`` without waiting for the work
/// (which may be stuck on a continuation that is never resumed).
///
/// Swift Testing's `.timeLimit` counts in minutes, so every test that could hang runs in
/// this instead. The work runs in a task of its own, which inherits the test's task-local
/// values (so `#expect` inside it reports to the test) and priority; cancelling the caller
/// cancels it.
///
/// Tests spell the closure `{ () async throws in ... }`: Swift 6.3.1 decides whether a
/// closure throws before expanding macros, so a closure whose only `try`s are inside
/// `#expect(try ...)` would otherwise be taken as non-throwing.
func withDeadline<T: Sendable>(
  _ duration: Duration = .seconds(10),
  sourceLocation: SourceLocation = #_sourceLocation,
  _ operation: @escaping @Sendable () async throws -> T
) async throws -> T {
  let race = Race<T>()
  let work = Task {
    do {
      race.finish(.success(try await operation()))
    } catch {
      race.finish(.failure(error))
    }
  }
  let timer = Task {
    try? await Task.sleep(for: duration)
    race.finish(nil)
  }
  let outcome = await withTaskCancellationHandler {
    await race.outcome()
  } onCancel: {
    work.cancel()
  }
  timer.cancel()
  guard let outcome else {
    work.cancel()
    Issue.record("Deadline of \(duration) exceeded: the test hung", sourceLocation: sourceLocation)
    throw DeadlineExceeded(duration: duration)
  }
  return try outcome.get()
}

/// The first of the work and the timer to finish; later finishes are ignored.
private final class Race<T: Sendable>: Sendable {
  private struct State {
    var outcome: Result<T, any Error>??
    var waiter: CheckedContinuation<Result<T, any Error>?, Never>?
  }

  private let state = Locked(State())

  /// `nil` means the deadline expired.
  func finish(_ outcome: Result<T, any Error>?) {
    let waiter = state.withLock { state -> CheckedContinuation<Result<T, any Error>?, Never>? in
      guard state.outcome == nil else { return nil }
      state.outcome = .some(outcome)
      defer { state.waiter = nil }
      return state.waiter
    }
    waiter?.resume(returning: outcome)
  }

  func outcome() async -> Result<T, any Error>? {
    await withCheckedContinuation { continuation in
      let ready = state.withLock { state -> Result<T, any Error>?? in
        if let outcome = state.outcome { return .some(outcome) }
        state.waiter = continuation
        return nil
      }
      if let ready { continuation.resume(returning: ready) }
    }
  }
}
