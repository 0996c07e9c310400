import AsyncGenerators

/// Python's `try: body / finally: cleanup`, with an awaiting cleanup (Swift cannot `await`
/// in `defer`): runs `cleanup` after `body`, however it exits; rethrows the body's error
/// after the cleanup, unless the cleanup throws, whose error then wins.
nonisolated(nonsending) func tryFinally(
  _ body: nonisolated(nonsending) () async throws -> Void,
  finally cleanup: nonisolated(nonsending) () async throws -> Void
) async throws {
  do {
    try await body()
  } catch {
    try await cleanup()
    throw error
  }
  try await cleanup()
}

/// Python's `compare_generators` recorder: calls `next()` until the end, recording each
/// element, the type name of each error, and `"STOP"` at the end.
func record<Element, Sent>(
  _ generator: AsyncGenerator<Element, Sent>, limit: Int = 100
) async -> [String] {
  var events: [String] = []
  for _ in 0..<limit {
    do {
      guard let element = try await generator.next() else {
        events.append("STOP")
        break
      }
      events.append("\(element)")
    } catch {
      events.append(String(describing: type(of: error)))
    }
  }
  return events
}

/// Lets a body reach its own generator (which does not exist yet when the body is written).
final class GeneratorBox<Element: Sendable, Sent: Sendable>: Sendable {
  private let storage = Locked<AsyncGenerator<Element, Sent>?>(nil)

  var generator: AsyncGenerator<Element, Sent> {
    get { storage.current! }
    set { storage.set(newValue) }
  }

  /// Drops the reference, breaking the cycle body -> box -> generator.
  func clear() {
    storage.set(nil)
  }
}

/// An await that a cancelled task can still complete: it waits for an unstructured task
/// (which does not inherit cancellation) that itself suspends.
func awaitOutsideCancellation() async {
  await Task {
    await Task.yield()
  }.value
}

/// Throws `error`: Python's `raise` in the middle of a block, without the compiler warning
/// that the code after it will never run (which is the point of those scenarios).
func raise(_ error: some Error) throws {
  throw error
}

/// Python's `try: yield / except: pass` then `DONE = 1`: yields `nil` once, logs and swallows
/// whatever is thrown at that yield (`"swallowed <type>"`), then logs `"DONE"` and returns.
func swallowOnceThenEnd(log: EventLog) -> AsyncGenerator<Int?, Void> {
  AsyncGenerator { yield in
    do {
      try await yield(nil)
    } catch {
      log.append("swallowed \(type(of: error))")
    }
    log.append("DONE")
  }
}
