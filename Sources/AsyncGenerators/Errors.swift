/// The error that ``AsyncGenerator/close()`` throws into a body suspended at a `yield`
/// (Python's `GeneratorExit`).
///
/// A body may catch it to run awaiting cleanup, then return or rethrow it; either way
/// `close()` returns normally. Yielding again instead makes `close()` throw
/// ``AsyncGeneratorError/ignoredGeneratorExit``.
///
/// ```swift
/// AsyncGenerator<Int, Void> { yield in
///   do {
///     try await yield(1)
///   } catch is GeneratorExit {
///     await connection.close()   // awaiting cleanup
///     throw GeneratorExit()
///   }
/// }
/// ```
public struct GeneratorExit: Error, Sendable, Hashable {
  /// Creates the error; all values are equal.
  public init() {}
}

/// Misuse of a generator, reported as a thrown error rather than a crash or a hang.
public enum AsyncGeneratorError: Error, Sendable, Hashable {
  /// A call was made while another call on the same generator was in flight, from another
  /// task or from inside the generator's own body. The rejected call changed nothing.
  case alreadyRunning
  /// The body yielded after ``AsyncGenerator/close()`` threw ``GeneratorExit`` into it.
  /// The generator stays suspended at that yield.
  case ignoredGeneratorExit
  /// ``AsyncGenerator/send(_:)`` was called before the body had started; the generator
  /// stays `created`. Start it with ``AsyncGenerator/next()``.
  case sendToJustStarted
  /// A ``AsyncGenerator/Yield`` was called outside its own body's task: it escaped the body,
  /// or a child task of the body called it.
  case yieldOutsideBody
  /// A scope's `shutdownTimeout` expired before its closes ended; the closes still running
  /// were cancelled.
  case shutdownTimedOut
}

/// Where a generator is in its life (Python's `inspect.getasyncgenstate`).
public enum AsyncGeneratorState: Sendable, Hashable {
  /// No call has run the body yet.
  case created
  /// A call is in flight: the body is executing, or awaiting inside its own code.
  case running
  /// The body is parked at a `yield`, waiting for the next call.
  case suspended
  /// The body returned or threw, or the generator was closed.
  case closed
}
