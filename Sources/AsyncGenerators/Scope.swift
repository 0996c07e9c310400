/// Runs `body` with hooks that track every generator first iterated inside it, and closes
/// them before returning (the event loop's part in Python: `shutdown_asyncgens`).
///
/// A tracked generator that is abandoned unclosed is closed by a task the scope owns. When
/// `body` exits, by any path (a thrown error, cancellation), the scope waits for those
/// closes, then closes every tracked generator still open, concurrently, and returns only
/// when all of them have finished. The closes are not cancelled by the scope's own
/// cancellation: cleanup gets to finish. With a `shutdownTimeout`, closes still running when
/// it expires are cancelled, ``AsyncGeneratorError/shutdownTimedOut`` is reported, and the
/// scope returns without waiting for them. Errors go to `onError` (`CancellationError` is not
/// reported); a generator with a call in flight at shutdown is reported as
/// ``AsyncGeneratorError/alreadyRunning`` and left to its caller.
///
/// ```swift
/// try await withAsyncGeneratorScope { scope in
///   for try await row in rows(of: table) { if row.isLast { break } }
/// }   // the abandoned generator's awaiting cleanup has run here
/// ```
///
/// Scopes nest: the innermost one tracks the generators first iterated inside it.
nonisolated(nonsending) public func withAsyncGeneratorScope<R, Failure: Error>(
  shutdownTimeout: Duration? = nil,
  onError: @escaping @Sendable (any Error) -> Void = {
    AsyncGeneratorHooks.uncaughtErrorHandler($0)
  },
  _ body: nonisolated(nonsending) (AsyncGeneratorScope) async throws(Failure) -> R
) async throws(Failure) -> R {
  let scope = AsyncGeneratorScope(shutdownTimeout: shutdownTimeout, onError: onError)
  let result: Result<R, Failure>
  do {
    result = .success(
      try await withAsyncGeneratorHooks(scope.hooks) { () async throws(Failure) -> R in
        try await body(scope)
      })
  } catch {
    result = .failure(error)
  }
  await scope.shutdown(final: true)
  return try result.get()
}

/// The generators a ``withAsyncGeneratorScope(shutdownTimeout:onError:_:)`` tracks.
///
/// The scope holds no reference that keeps a dropped generator's handle alive, and forgets a
/// generator once it is closed, so a long-lived scope holds memory for live generators only.
public final class AsyncGeneratorScope: Sendable {
  private let shutdownTimeout: Duration?
  private let onError: @Sendable (any Error) -> Void
  private let registry = ScopeRegistry()

  init(shutdownTimeout: Duration?, onError: @escaping @Sendable (any Error) -> Void) {
    self.shutdownTimeout = shutdownTimeout
    self.onError = onError
  }

  /// Tracked generators that are not yet closed.
  public var liveGenerators: Int {
    registry.liveGenerators
  }

  /// Closes what the scope tracks now, as its exit does, and waits for it (including the
  /// closes of abandoned generators already under way). May be called more than once; a
  /// generator first iterated afterwards is still tracked and closed at exit.
  ///
  /// ```swift
  /// try await withAsyncGeneratorScope { scope in
  ///   for request in requests {
  ///     try await handle(request)           // may leave generators suspended
  ///     await scope.shutdownGenerators()    // their cleanup has run before the next one
  ///   }
  /// }
  /// ```
  nonisolated(nonsending) public func shutdownGenerators() async {
    await shutdown(final: false)
  }

  var hooks: AsyncGeneratorHooks {
    AsyncGeneratorHooks(
      firstIteration: { [weak self] handle in self?.registry.track(handle.core) },
      finalizer: { [weak self] handle in
        let generator = ObjectIdentifier(handle.core)
        guard let self else { return handle.core.finalizeDetached() }
        switch self.registry.startClose(for: generator, { await self.finalize(handle) }) {
        case .started:
          break
        case .alreadyClosing:
          // The close under way holds a handle of its own: when the last handle goes, the
          // library finalizes whatever that close left open.
          break
        case .ended:
          handle.core.finalizeDetached()
        }
      }
    )
  }

  private func finalize(_ handle: AnyAsyncGenerator) async {
    await handle.finalize { onError($0) }
  }

  nonisolated(nonsending) func shutdown(final: Bool) async {
    let deadline = shutdownTimeout.map { ContinuousClock.now.advanced(by: $0) }
    var attempted = Set<ObjectIdentifier>()
    let onError = onError
    while true {
      // First the closes under way (abandoned generators), then every generator still open.
      guard await registry.waitForCloses(until: deadline) else {
        registry.cancelCloses(endingScope: final)
        onError(AsyncGeneratorError.shutdownTimedOut)
        return
      }
      if registry.isSettled(excluding: attempted, endingScope: final) { return }
      let started = registry.closeOpen(excluding: attempted, reportingErrorsTo: onError)
      attempted.formUnion(started)
    }
  }
}
