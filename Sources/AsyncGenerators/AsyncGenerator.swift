/// An asynchronous generator: a body that both `await`s and `yield`s, run lazily, one
/// element per request (Python's PEP 525 `async def` with `yield`).
///
/// ```swift
/// let running = AsyncGenerator<Int, Int> { yield in
///   var total = 0
///   while true { if let n = try await yield(total) { total += n } }
/// }
/// _ = try await running.next()     // 0
/// _ = try await running.send(5)    // 5
/// try await running.close()
/// ```
///
/// Creating a generator runs nothing. The first ``next()`` starts the body in a task of its
/// own (inheriting the caller's priority, task-local values and task-executor preference);
/// each call then resumes it until it yields, returns or throws. Only one call may be in
/// flight at a time: any other throws ``AsyncGeneratorError/alreadyRunning``.
public final class AsyncGenerator<Element: Sendable, Sent: Sendable>: AsyncSequence, Sendable {
  /// Errors thrown by the body, or ``AsyncGeneratorError`` for misuse.
  public typealias Failure = any Error

  @usableFromInline let storage: GeneratorStorage<Element, Sent>

  /// Creates a generator whose body runs, from the first ``next()``, with the isolation of
  /// `body` (for example `AsyncGenerator { @MainActor yield in ... }`).
  public init(_ body: @escaping @Sendable @isolated(any) (Yield) async throws -> Void) {
    storage = GeneratorStorage(body: body)
  }

  deinit {
    storage.objectDropped()
  }

  /// Resumes the body and returns the next element, or `nil` once the body has returned
  /// (Python's `__anext__`). The pending `yield` returns `nil`.
  ///
  /// The first call starts the body. An error the body throws is rethrown here, and the
  /// generator is then closed: every later call returns `nil`.
  ///
  /// ```swift
  /// let g = AsyncGenerator<Int, Void> { yield in try await yield(1) }
  /// let first = try await g.next()   // 1
  /// let end = try await g.next()     // nil: the body returned (and nil every time after)
  /// ```
  @inlinable
  nonisolated(nonsending) public func next() async throws -> Element? {
    if let outcome = await storage.handOff(nil, isSend: false) { return try outcome.element() }
    return try await storage.perform(.next).element()
  }

  /// Resumes the body so that the pending `yield` returns `value`, and returns the next
  /// element (Python's `asend`). Throws ``AsyncGeneratorError/sendToJustStarted`` before the
  /// body has started.
  ///
  /// ```swift
  /// let echo = AsyncGenerator<String, String> { yield in
  ///   var reply = "ready"
  ///   while true {
  ///     let said = try await yield(reply)   // "hi" after send("hi"), nil after next()
  ///     reply = "echo: \(said ?? "nothing")"
  ///   }
  /// }
  /// let ready = try await echo.next()       // "ready" (the first call must be next())
  /// let hi = try await echo.send("hi")      // "echo: hi"
  /// let nothing = try await echo.next()     // "echo: nothing"
  /// ```
  @inlinable
  nonisolated(nonsending) public func send(_ value: Sent) async throws -> Element? {
    if let outcome = await storage.handOff(value, isSend: true) { return try outcome.element() }
    return try await storage.perform(.send(value)).element()
  }

  /// Throws `error` at the pending `yield` (Python's `athrow`). Returns the element the
  /// body yields next, `nil` if it returns, or rethrows the error that escapes it. On a
  /// `created` generator the body never runs: `error` is rethrown and the generator closes.
  /// On a `closed` one this returns `nil`.
  ///
  /// ```swift
  /// let g = AsyncGenerator<String, Void> { yield in
  ///   do {
  ///     try await yield("working")
  ///   } catch is Pause {
  ///     try await yield("paused")   // handled: `throw` returns this element
  ///   }
  /// }
  /// let working = try await g.next()       // "working"
  /// let paused = try await g.throw(Pause()) // "paused"
  /// _ = try await g.throw(Pause())          // rethrows Pause: nothing handles it now; closed
  /// ```
  ///
  /// Throwing ``GeneratorExit`` is not ``close()``: an uncaught `GeneratorExit` propagates to
  /// the caller, and an element the body yields in response is returned.
  @inlinable
  nonisolated(nonsending) public func `throw`(_ error: any Error) async throws -> Element? {
    if let outcome = await storage.handOff(nil, isSend: false, thrown: error) {
      return try outcome.element()
    }
    return try await storage.perform(.throwError(error)).element()
  }

  /// Closes the generator (Python's `aclose`): throws ``GeneratorExit`` at the pending
  /// `yield` and waits while the body runs its awaiting cleanup.
  ///
  /// Returns normally when the body returns or rethrows `GeneratorExit`; rethrows any other
  /// error; throws ``AsyncGeneratorError/ignoredGeneratorExit`` if the body yields instead
  /// (it stays suspended there). A `created` generator closes without running its body; a
  /// `closed` one is left as it is. A caller that is already cancelled does not cancel the
  /// cleanup; a cancellation arriving while `close()` waits is forwarded to the body.
  ///
  /// ```swift
  /// let lines = AsyncGenerator<String, Void> { yield in
  ///   let file = try await remote.open(path)
  ///   do {
  ///     while let line = try await file.readLine() { try await yield(line) }
  ///   } catch {
  ///     await file.close()   // runs for close(): the error is GeneratorExit
  ///     throw error
  ///   }
  ///   await file.close()
  /// }
  /// let header = try await lines.next()
  /// try await lines.close()  // returns once `file.close()` has finished
  /// ```
  nonisolated(nonsending) public func close() async throws {
    try await storage.close()
  }

  /// Where the generator is in its life (Python's `inspect.getasyncgenstate`).
  public var state: AsyncGeneratorState {
    storage.state
  }

  /// Runs `body` with the generator, then closes it, however `body` exits (Python's
  /// `contextlib.aclosing`). If both `body` and the close throw, the close's error is thrown.
  ///
  /// ```swift
  /// let firstError = try await logLines(of: service).closing { lines in
  ///   try await lines.first { $0.contains("ERROR") }
  /// }   // the generator is closed here, its cleanup finished, whether a line matched or not
  /// ```
  ///
  /// `body` runs on the caller's executor (it is `nonisolated(nonsending)`), so it may use
  /// the caller's non-`Sendable` state. It cannot pass such state on to a plain `nonisolated`
  /// async function (one that runs on the global executor), such as a server framework's
  /// response writer; mark the closure `@concurrent` for that:
  /// `try await generator.closing { @concurrent generator in ... }`.
  nonisolated(nonsending) public func closing<R>(
    _ body: nonisolated(nonsending) (AsyncGenerator) async throws -> R
  ) async throws -> R {
    let result: Result<R, any Error>
    do {
      result = .success(try await body(self))
    } catch {
      result = .failure(error)
    }
    try await close()
    return try result.get()
  }

  /// Returns an iterator that calls ``next()``. Breaking out of a `for try await` loop does
  /// not close the generator, as in Python; use ``closing(_:)`` for that.
  public func makeAsyncIterator() -> AsyncIterator {
    AsyncIterator(generator: self)
  }

  /// Iterates a generator by calling its ``AsyncGenerator/next()``.
  public struct AsyncIterator: AsyncIteratorProtocol {
    /// Errors thrown by the body, or ``AsyncGeneratorError`` for misuse.
    public typealias Failure = any Error

    @usableFromInline let generator: AsyncGenerator

    @usableFromInline
    init(generator: AsyncGenerator) {
      self.generator = generator
    }

    /// The generator's next element, or `nil` at its end.
    @inlinable
    nonisolated(nonsending) public mutating func next() async throws -> Element? {
      try await generator.next()
    }

    /// The generator's next element, or `nil` at its end, on `actor`'s executor.
    @inlinable
    public mutating func next(isolation actor: isolated (any Actor)?) async throws -> Element? {
      try await generator.next()
    }
  }

  /// The callable a body uses to yield (`try await yield(value)`), handed to the body.
  ///
  /// A yield suspends the body until the consumer's next call and returns the value sent by
  /// ``AsyncGenerator/send(_:)`` (`nil` for ``AsyncGenerator/next()``), or throws the error
  /// of ``AsyncGenerator/throw(_:)``, ``GeneratorExit`` for ``AsyncGenerator/close()``, or
  /// `CancellationError` when the body's task is already cancelled as it yields (the element
  /// is then not delivered). It works only in its own body's task; elsewhere it throws
  /// ``AsyncGeneratorError/yieldOutsideBody``.
  public struct Yield: Sendable {
    @usableFromInline let storage: GeneratorStorage<Element, Sent>

    /// Yields `value` to the consumer and waits for the next call.
    @discardableResult
    @inlinable
    nonisolated(nonsending) public func callAsFunction(_ value: Element) async throws -> Sent? {
      let isBody = await storage.yield(value)
      switch storage.takeBodyResumption(isBody: isBody) {
      case .value(let sent): return sent
      case .error(let error): throw error
      }
    }
  }
}

extension CallOutcome {
  /// The outcome as `next`, `send` and `throw` report it.
  @inlinable
  func element() throws -> Element? {
    switch self {
    case .element(let element): return element
    case .finished: return nil
    case .failed(let error): throw error
    }
  }
}
