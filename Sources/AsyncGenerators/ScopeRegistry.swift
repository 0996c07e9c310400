/// A scope's bookkeeping under one lock: the generators it tracks, the closes it runs, and
/// who waits for those closes to end.
final class ScopeRegistry: @unchecked Sendable {
  private let lock = Lock()
  private var tracked: [ObjectIdentifier: any GeneratorCore] = [:]
  /// Closes under way.
  private var closes: [UInt64: Close] = [:]

  private enum Close {
    /// Its task is being created.
    case starting
    /// The close of an abandoned generator, in a task of its own.
    case task(Task<Void, Never>)
    /// A shutdown's close, started with `startClose` (no task; cancelled through the core).
    case untasked(any GeneratorCore)
  }
  /// The generators those closes are for, so that no generator gets two at once.
  private var closing: [UInt64: ObjectIdentifier] = [:]
  private var closingGenerators: Set<ObjectIdentifier> = []
  private var nextID: UInt64 = 0
  private var waiters: [UInt64: UnsafeContinuation<Bool, Never>] = [:]
  /// Closes to cancel as soon as their task handle is recorded.
  private var cancelOnStart: Set<UInt64> = []
  /// Once set, the scope has returned: finalizer calls fall back to the library's own.
  private var ended = false

  deinit {
    lock.deallocate()
  }

  var liveGenerators: Int {
    lock.withLock { tracked.count }
  }

  /// Tracks a generator at its first call, until it closes.
  func track(_ core: any GeneratorCore) {
    let id = ObjectIdentifier(core)
    guard lock.withLock({ ended ? false : (tracked.updateValue(core, forKey: id) == nil) }) else {
      return
    }
    let stillOpen = core.observeClosing { [weak self] in self?.forget(id) }
    if !stillOpen { forget(id) }
  }

  private func forget(_ id: ObjectIdentifier) {
    lock.withLock { _ = tracked.removeValue(forKey: id) }
  }

  /// Starts closing, with `close`, each tracked generator not yet closed whose identity is
  /// not in `excluded` and that has no close under way; returns their identities.
  ///
  /// The closes run concurrently, but without a task each: each body is resumed with
  /// `GeneratorExit` at once, and its end calls back (for 100,000 generators, the tasks
  /// would be most of a shutdown's cost). Errors go to `report`.
  func closeOpen(
    excluding excluded: Set<ObjectIdentifier>,
    reportingErrorsTo report: @escaping @Sendable (any Error) -> Void
  ) -> [ObjectIdentifier] {
    let open = lock.withLock {
      tracked.filter { !excluded.contains($0.key) && !closingGenerators.contains($0.key) }
    }
    for (generator, core) in open {
      guard case .success(let id) = register(generator, as: .untasked(core)) else { continue }
      // A handle, held until the close ends: if the object goes away meanwhile, no second
      // finalization starts.
      let handle = AnyAsyncGenerator(core: core)
      AnyAsyncGenerator.startFinalizing(core, reportingErrorsTo: report) { [self] in
        withExtendedLifetime(handle) { closeEnded(id) }
      }
      if lock.withLock({ cancelOnStart.remove(id) != nil }) { core.cancelClose() }
    }
    return Array(open.keys)
  }

  /// Records a close for `generator`, unless the scope has ended or it has one under way.
  private func register(
    _ generator: ObjectIdentifier, as close: Close
  ) -> Result<UInt64, CloseStartFailure> {
    lock.withLock {
      guard !ended else { return .failure(.ended) }
      guard closingGenerators.insert(generator).inserted else {
        return .failure(.alreadyClosing)
      }
      nextID += 1
      closes[nextID] = close
      closing[nextID] = generator
      return .success(nextID)
    }
  }

  enum CloseStart {
    case started
    /// That generator already has a close under way; nothing was started.
    case alreadyClosing
    /// The scope has ended; nothing was started.
    case ended
  }

  /// Runs `close` for `generator` in a task the scope waits for, unless the scope has ended
  /// or that generator already has a close under way.
  @discardableResult
  func startClose(
    for generator: ObjectIdentifier, _ close: @escaping @Sendable () async -> Void
  ) -> CloseStart {
    let id: UInt64
    switch register(generator, as: .starting) {
    case .success(let started): id = started
    case .failure(.ended): return .ended
    case .failure(.alreadyClosing): return .alreadyClosing
    }
    // Detached: a close must not inherit the hooks, nor the cancellation, of whoever started it.
    let task = Task.detached { [self] in
      await close()
      closeEnded(id)
    }
    let cancel = lock.withLock {
      guard closes[id] != nil else { return false }
      closes[id] = .task(task)
      return cancelOnStart.remove(id) != nil
    }
    if cancel { task.cancel() }
    return .started
  }

  private enum CloseStartFailure: Error { case ended, alreadyClosing }

  private func closeEnded(_ id: UInt64) {
    let resumed: [UnsafeContinuation<Bool, Never>] = lock.withLock {
      closes.removeValue(forKey: id)
      if let generator = closing.removeValue(forKey: id) {
        closingGenerators.remove(generator)
      }
      guard closes.isEmpty else { return [] }
      defer { waiters.removeAll() }
      return Array(waiters.values)
    }
    for waiter in resumed { waiter.resume(returning: true) }
  }

  /// Waits until no close is under way (true) or `deadline` passes first (false). Not
  /// interrupted by the caller's cancellation: cleanup gets to finish.
  func waitForCloses(until deadline: ContinuousClock.Instant?) async -> Bool {
    let id = lock.withLock {
      nextID += 1
      return nextID
    }
    let timer = deadline.map { deadline in
      Task.detached { [self] in
        try? await Task.sleep(until: deadline, clock: .continuous)
        if !Task.isCancelled { expire(id) }
      }
    }
    defer { timer?.cancel() }
    return await withUnsafeContinuation { (waiter: UnsafeContinuation<Bool, Never>) in
      let drained = lock.withLock {
        if closes.isEmpty { return true }
        waiters[id] = waiter
        return false
      }
      if drained { waiter.resume(returning: true) }
    }
  }

  private func expire(_ id: UInt64) {
    lock.withLock { waiters.removeValue(forKey: id) }?.resume(returning: false)
  }

  /// Cancels the closes still running; with `endingScope`, the scope ends.
  func cancelCloses(endingScope: Bool) {
    let running: [Close] = lock.withLock {
      if endingScope { ended = true }
      for (id, close) in closes {
        switch close {
        case .starting, .untasked: cancelOnStart.insert(id)
        case .task: break
        }
      }
      return Array(closes.values)
    }
    for close in running {
      switch close {
      case .starting: break
      case .task(let task): task.cancel()
      case .untasked(let core): core.cancelClose()
      }
    }
  }

  /// Whether nothing is left to close (no close under way, and every open tracked generator
  /// already attempted); with `endingScope`, the scope then ends in the same step.
  func isSettled(excluding attempted: Set<ObjectIdentifier>, endingScope: Bool) -> Bool {
    lock.withLock {
      let settled = closes.isEmpty && tracked.keys.allSatisfy { attempted.contains($0) }
      if settled && endingScope { ended = true }
      return settled
    }
  }
}
