extension AsyncGenerator {
  /// An asynchronous sequence over the same elements that lets the body run up to `count`
  /// elements ahead of the consumer (`count < 1` counts as 1).
  ///
  /// A lazy generator hands each element over when it is asked for, which costs a meeting of
  /// two tasks per element. Prefetching lets the body fill a buffer while the consumer works,
  /// so a stream of small elements costs a fraction of that. Use it when the body's work is
  /// free of side effects that must wait for the consumer (a large query, a file, a
  /// computation), not when laziness matters (a body that must not run before it is asked).
  ///
  /// From the iterator's first `next()` until the iteration ends, the generator counts as
  /// `running`: direct calls, and a second prefetching iteration, throw
  /// ``AsyncGeneratorError/alreadyRunning``. It is for iteration only (no `send`/`throw`).
  /// Ending the iteration early (`break`, or dropping the iterator) closes the generator,
  /// discarding the elements fetched ahead; errors from that close go where finalization
  /// errors go (the kept finalizer's path, else ``AsyncGeneratorHooks/uncaughtErrorHandler``).
  /// After the body has returned, ``state`` stays `running` until the iterator has delivered
  /// the buffered elements and the end.
  ///
  /// ```swift
  /// for try await row in rows(of: table).prefetching(64) { total += row.amount }
  /// ```
  public func prefetching(_ count: Int) -> Prefetching {
    Prefetching(generator: self, count: Swift.max(1, count))
  }

  /// The sequence ``AsyncGenerator/prefetching(_:)`` returns.
  public struct Prefetching: AsyncSequence, Sendable {
    /// Errors thrown by the body, or ``AsyncGeneratorError`` for misuse.
    public typealias Failure = any Error

    let generator: AsyncGenerator
    let count: Int

    /// Returns an iterator; its first `next()` starts the prefetching iteration.
    public func makeAsyncIterator() -> AsyncIterator {
      AsyncIterator(session: PrefetchSession(generator: generator, capacity: count))
    }

    /// Iterates a prefetching generator.
    public struct AsyncIterator: AsyncIteratorProtocol {
      /// Errors thrown by the body, or ``AsyncGeneratorError`` for misuse.
      public typealias Failure = any Error

      @usableFromInline let session: PrefetchSession<Element, Sent>

      /// The next element, or `nil` at the end.
      @inlinable
      nonisolated(nonsending) public mutating func next() async throws -> Element? {
        try await session.next()
      }

      /// The next element, or `nil` at the end, on `actor`'s executor.
      @inlinable
      public mutating func next(isolation actor: isolated (any Actor)?) async throws -> Element? {
        try await session.next()
      }
    }
  }
}

/// One prefetching iteration: begins at its first `next()`, ends at the end of the elements
/// or when the iterator goes away.
@usableFromInline
final class PrefetchSession<Element: Sendable, Sent: Sendable>: @unchecked Sendable {
  @usableFromInline enum Progress { case notStarted, iterating, ended }

  @usableFromInline let generator: AsyncGenerator<Element, Sent>
  @usableFromInline let ring: PrefetchRing<Element, Sent>
  // Touched only by the iterating task (an iterator is not shared), and by deinit.
  @usableFromInline @exclusivity(unchecked) var progress = Progress.notStarted
  /// How long, in nanoseconds, the iterator spins on an empty ring before parking.
  @usableFromInline @exclusivity(unchecked) var spinBudget =
    spinningPays ? PrefetchSession.maximumSpin : 0
  @inlinable static var maximumSpin: Int { 4_000 }

  init(generator: AsyncGenerator<Element, Sent>, capacity: Int) {
    self.generator = generator
    ring = PrefetchRing(capacity: capacity)
  }

  deinit {
    if case .iterating = progress { generator.storage.endPrefetch(ring) }
  }

  @inlinable
  nonisolated(nonsending) func next() async throws -> Element? {
    switch progress {
    case .ended: return nil
    case .notStarted:
      guard try await generator.storage.beginPrefetch(ring) else {
        progress = .ended
        return nil
      }
      progress = .iterating
    case .iterating: break
    }
    var wait = SpinWait(nanoseconds: spinBudget)
    var waited = false
    while true {
      switch ring.pop() {
      case .element(let element):
        if waited { spinBudget = PrefetchSession.maximumSpin }
        return element
      case .finished(let error):
        progress = .ended
        generator.storage.endPrefetch(ring)
        if let error { throw error }
        return nil
      case .empty:
        // The body is usually about to push: spin a while (less after each park, so that a
        // slow body does not keep this core busy) before parking.
        waited = true
        // Two pauses between looks: re-reading the body's index at once would take its cache
        // line from the body at every push; waiting lets a few elements accumulate, which are
        // then taken with one look. (One pause measured twice as slow; four to eight, slower
        // again: the consumer then waits on elements already there.)
        if wait.pause(), wait.pause() { continue }
        spinBudget /= 2
        await withTaskCancellationHandler {
          await withUnsafeContinuation { ring.parkConsumer($0) }
        } onCancel: {
          generator.storage.cancelPrefetchingBody()
        }
        wait = SpinWait(nanoseconds: spinBudget)
      }
    }
  }
}
