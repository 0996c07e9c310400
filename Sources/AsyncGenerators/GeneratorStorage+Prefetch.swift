/// Prefetching: a `prefetching(_:)` iteration owns the generator, the body's yields fill a
/// ring without waiting for requests, and the iterator drains it.
extension GeneratorStorage {
  /// Begins a prefetching iteration over `ring`; false when the generator is already closed
  /// (the iteration is then empty).
  @usableFromInline
  nonisolated(nonsending) func beginPrefetch(_ ring: PrefetchRing<Element, Sent>) async throws
    -> Bool
  {
    let hooks = hooksToRead()
    var isFirstCall = false
    let (start, cancel) = withMachine { machine in
      isFirstCall = readHooks(&machine, hooks)
      let decision = machine.beginPrefetch(cancelled: Task.isCancelled)
      switch decision.0 {
      case .startBody, .resumeBody, .bodyAway:
        prefetchRing = ring
        word.store(HandoffWord(.prefetching).rawValue, ordering: .releasing)
      case .ended, .alreadyRunning:
        break
      }
      return decision
    }
    if isFirstCall { hooks?.firstIteration?(AnyAsyncGenerator(core: self)) }
    cancel?.cancel()
    switch start {
    case .startBody: startBody()
    case .resumeBody(let waiter): resumeBody(waiter, .value(nil))
    case .bodyAway: break
    case .ended: return false
    case .alreadyRunning: throw AsyncGeneratorError.alreadyRunning
    }
    return true
  }

  /// The iteration is over: drained to its end, or dropped early, which
  /// closes the generator as finalization does.
  @usableFromInline
  func endPrefetch(_ ring: PrefetchRing<Element, Sent>) {
    perform(
      withMachine { machine in
        word.store(HandoffWord.slow.rawValue, ordering: .sequentiallyConsistent)
        ring.abandon()
        return machine.prefetchEnded(parkedProducer: ring.takeProducer())
      })
  }

  /// Forwards the cancellation of the iterating task to the body.
  @usableFromInline
  func cancelPrefetchingBody() {
    withMachine { $0.cancelBody() }?.cancel()
  }
}
