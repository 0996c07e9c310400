import CAsyncGeneratorsRuntime
import Synchronization

/// The lock-free element handoff: `next`/`send` and `yield` meet on the handoff word while
/// the state machine has delegated the phase to it, spinning briefly before parking.
extension GeneratorStorage {
  // MARK: Consumer side

  /// Posts a `next` (`isSend` false), a `send(sent)` or a `throw(thrown)` on the handoff
  /// word and waits for its outcome; `nil` when the word does not hold the phase (take the
  /// state machine's path).
  @inlinable
  nonisolated(nonsending) func handOff(
    _ sent: Sent?, isSend: Bool, thrown: (any Error)? = nil
  ) async -> CallOutcome<Element>? {
    guard !currentTaskIsCancelled() else { return nil }
    while true {
      let current = HandoffWord(rawValue: word.load(ordering: .acquiring))
      switch current.stage {
      case .slow, .prefetching:
        return nil
      case .claimed, .requestedNext, .requestedSend, .running, .delivered:
        return .failed(AsyncGeneratorError.alreadyRunning)
      case .atYield where current.isBodyParked:
        guard let waiter = waiterSlot, exchange(current, HandoffWord(.running)) else { continue }
        resumeBody(waiter, thrown.map { .error($0) } ?? .value(sent))
        // A body that waits long for its consumer parks at every yield; waiting for it to
        // wake would only burn this core (a quick one is worth the spin: see SpinPolicy).
        if bodySpin.partnerIsSlow { return await parkConsumer(forwarded: false) }
      case .atYield where isSend || thrown != nil:
        guard exchange(current, HandoffWord(.claimed)) else { continue }
        if let thrown { thrownSlot = thrown } else { sentSlot = sent }
        word.store(
          HandoffWord(.requestedSend, throwing: thrown != nil).rawValue, ordering: .releasing)
      case .atYield:
        guard exchange(current, HandoffWord(.requestedNext)) else { continue }
      }
      return await awaitOutcome(isolation: #isolation)
    }
  }

  /// Waits for the body to answer the call in flight: spins, then parks.
  @inlinable
  nonisolated(nonsending) func awaitOutcome(isolation: (any Actor)?) async
    -> CallOutcome<Element>
  {
    var wait = SpinWait(
      nanoseconds: spinning.consumerBudget(isolation: isolation, consumerSpin, body: bodySpin))
    var forwarded = false
    while true {
      let current = HandoffWord(rawValue: word.load(ordering: .acquiring))
      switch current.stage {
      case .delivered:
        if let outcome = takeDelivered(current) {
          consumerSpin.waited(wait.elapsed())
          return outcome
        }
      case .requestedNext, .requestedSend, .running, .claimed, .atYield:
        if wait.pause() {
          if wait.isCheckpoint, !forwarded, currentTaskIsCancelled() {
            forwarded = true
            cancelCall(of: currentTaskID())
          }
          continue
        }
        wait.startTiming()
        let outcome = await parkConsumer(forwarded: forwarded)
        consumerSpin.waited(wait.elapsed())
        return outcome
      case .slow, .prefetching:
        return await parkConsumer(forwarded: forwarded)
      }
    }
  }

  /// Takes the delivered element and leaves the body at its yield; `nil` if the word moved.
  @inlinable
  func takeDelivered(_ current: HandoffWord) -> CallOutcome<Element>? {
    // The body does not write the slot again before this call returns, so a copy taken
    // before the exchange is the element, and a reclaim that wins reads the same one.
    guard let element = elementSlot, exchange(current, current.with(.atYield)) else { return nil }
    return .element(element)
  }

  /// Parks the consumer: on the word while it holds the phase, else with the state machine.
  @usableFromInline
  nonisolated(nonsending) func parkConsumer(forwarded: Bool) async -> CallOutcome<Element> {
    let task = currentTaskID()
    // Recorded before the consumer-parked flag is set, for a cancellation handler to compare.
    consumerTask.store(task, ordering: .relaxed)
    return await withTaskCancellationHandler {
      await withUnsafeContinuation { (consumer: Machine.ConsumerContinuation) in
        consumerSlot = consumer
        while true {
          let current = HandoffWord(rawValue: word.load(ordering: .acquiring))
          switch current.stage {
          case .requestedNext, .requestedSend, .running:
            if exchange(current, current.settingConsumerParked()) { return }
          case .delivered:
            if let outcome = takeDelivered(current) { return consumer.resume(returning: outcome) }
          case .slow, .atYield, .prefetching:
            // Only `slow` can hold while this call is in flight; the machine sorts it out.
            return consumerCheckIn(consumer, task: task)
          case .claimed:
            continue
          }
        }
      }
    } onCancel: {
      if !forwarded { cancelCall(of: task) }
    }
  }

  // MARK: Body side
  //
  // One async function with synchronous helpers: every frame on the path to a parked yield
  // lives in the body task's allocator, and a parked task whose frames fit its first slab
  // costs a kilobyte less (see PERFORMANCE-NOTES.md, memory).

  /// The body yields `element`: answers the call in flight and waits for the next one.
  /// What the yield returns or throws is then in `bodyResumption` (`takeBodyResumption()`).
  /// Returns false, doing nothing, for a task other than the body's (an escaped Yield, a
  /// child task): it may not yield, and may not touch the body's slots either.
  @inlinable
  nonisolated(nonsending) func yield(_ element: Element) async -> Bool {
    let (taskID, cancelled) = currentTask()
    guard taskID == bodyTaskID.load(ordering: .relaxed), taskID != 0 else { return false }
    let post = post(element, cancelled: cancelled)
    switch post {
    case .posted, .postedToParkedConsumer:
      if !spinForRequest(resumedConsumer: post == .postedToParkedConsumer) {
        await withUnsafeContinuation { parkBody($0) }
        bodySpin.waited(ag_monotonic_nanoseconds() &- bodyParkedAt)
      }
    case .answered:
      break
    case .ringFull:
      await yieldIntoRing(element)
    case .notOnWord:
      await yieldToMachine(element, taskID: taskID)
    }
    return true
  }

  // The rarer paths live in functions of their own, so that their locals do not widen the
  // frame of every parked yield.

  /// A prefetching iteration owns the generator and its ring is full: wait, then push.
  @usableFromInline
  nonisolated(nonsending) func yieldIntoRing(_ element: Element) async {
    while let ring = prefetchRing {
      await withUnsafeContinuation { ring.parkProducer($0) }
      if pushIntoRing(element, ring, cancelled: currentTaskIsCancelled()) { break }
      // Woken for room in the ring, unless the iteration has ended since: then this is the
      // state machine's answer (the element, fetched ahead, is dropped).
      if !isPrefetching { break }
    }
  }

  /// The state machine holds the phase: yield through it.
  @usableFromInline
  nonisolated(nonsending) func yieldToMachine(_ element: Element, taskID: UInt)
    async
  {
    let cancelled = Task.isCancelled
    await withUnsafeContinuation { (waiter: Machine.BodyWaiter) in
      perform(
        withMachine { $0.yield(element, waiter: waiter, taskID: taskID, cancelled: cancelled) })
    }
  }

  /// What the body's last yield returns or throws; for another task (`isBody` false),
  /// `yieldOutsideBody`.
  @inlinable
  func takeBodyResumption(isBody: Bool) -> YieldResumption<Sent> {
    guard isBody else { return .error(AsyncGeneratorError.yieldOutsideBody) }
    // Resumed: the element and sent slots are not read again before the next yield, so a
    // value they hold (a reference to release) can go; plain values are left as they are.
    if !_isPOD(Element.self) { elementSlot = nil }
    if !_isPOD(Sent.self) { sentSlot = nil }
    guard let resumption = bodyResumption else { return .value(nil) }
    bodyResumption = nil
    return resumption
  }

  /// Pushes into the ring; true when the yield is answered (pushed, or the body is
  /// cancelled, or the iteration is over).
  @inlinable
  func pushIntoRing(
    _ element: Element, _ ring: PrefetchRing<Element, Sent>, cancelled: Bool
  ) -> Bool {
    guard isPrefetching else { return true }
    if cancelled {
      bodyResumption = .error(CancellationError())
      return true
    }
    // A pushed element's yield returns nil: the empty resumption slot says so.
    return ring.push(element)
  }

  @inlinable
  var isPrefetching: Bool {
    HandoffWord(rawValue: word.load(ordering: .acquiring)).stage == .prefetching
  }

  @usableFromInline
  enum Post {
    /// Delivered on the word: now wait for the next call.
    case posted
    /// Handed to a parked consumer, which was woken: now wait for the next call.
    case postedToParkedConsumer
    /// The yield is over at once (its resumption is in the slot).
    case answered
    /// A prefetching iteration owns the generator, and its ring is full.
    case ringFull
    /// The state machine holds the phase.
    case notOnWord
  }

  /// Delivers `element` to the call in flight on the handoff word.
  @inlinable
  func post(_ element: Element, cancelled: Bool) -> Post {
    while true {
      let current = HandoffWord(rawValue: word.load(ordering: .acquiring))
      switch current.stage {
      case .running:
        if cancelled {
          bodyResumption = .error(CancellationError())
          return .answered
        }
        if current.isConsumerParked {
          // Copied before the exchange: once it succeeds, the next call may reuse the slot.
          guard let consumer = consumerSlot, exchange(current, HandoffWord(.atYield)) else {
            continue
          }
          consumer.resume(returning: .element(element))
          return .postedToParkedConsumer
        }
        elementSlot = element
        guard exchange(current, HandoffWord(.delivered)) else { continue }
        return .posted
      case .prefetching:
        guard let ring = unretainedRing else { return .notOnWord }
        let pushed = ring._withUnsafeGuaranteedRef {
          pushIntoRing(element, $0, cancelled: cancelled)
        }
        return pushed ? .answered : .ringFull
      case .slow, .atYield, .requestedNext, .requestedSend, .claimed, .delivered:
        return .notOnWord
      }
    }
  }

  /// Spins at a yield for the next call, within the spin budget; false if none came.
  @inlinable
  func spinForRequest(resumedConsumer: Bool) -> Bool {
    // A consumer that waits long for the body parks at every call; after waking one, waiting
    // for it would only burn this core (see SpinPolicy).
    let budget =
      resumedConsumer && consumerSpin.partnerIsSlow
      ? 0 : spinning.bodyBudget(bodySpin, consumer: consumerSpin)
    var wait = SpinWait(nanoseconds: budget)
    while true {
      let current = HandoffWord(rawValue: word.load(ordering: .acquiring))
      switch current.stage {
      case .requestedNext, .requestedSend:
        if takeRequest(current) {
          bodySpin.waited(wait.elapsed())
          return true
        }
      case .atYield, .delivered, .claimed, .running:
        if wait.pause() { continue }
        wait.startTiming()
        bodyParkedAt = wait.start
        return false
      case .slow, .prefetching:
        wait.startTiming()
        bodyParkedAt = wait.start
        return false
      }
    }
  }

  /// Takes the posted request into the resumption slot, the body now running; false if the
  /// word moved.
  @inlinable
  func takeRequest(_ current: HandoffWord) -> Bool {
    let isSend = current.stage == .requestedSend
    let sent = isSend && !current.isThrowing ? sentSlot : nil
    let thrown = isSend && current.isThrowing ? thrownSlot : nil
    guard exchange(current, current.with(.running)) else { return false }
    // A `next()` leaves the slot empty, which the yield reads as nil.
    if let thrown {
      bodyResumption = .error(thrown)
      thrownSlot = nil  // No one writes it again before the next yield.
    } else if let sent {
      bodyResumption = .value(sent)
    }
    return true
  }

  /// Parks the body at its yield on `waiter`: on the word while it holds the phase, else
  /// with the state machine.
  @usableFromInline
  func parkBody(_ waiter: UnsafeContinuation<Void, Never>) {
    waiterSlot = waiter
    while true {
      let current = HandoffWord(rawValue: word.load(ordering: .acquiring))
      switch current.stage {
      case .atYield, .delivered:
        if exchange(current, current.settingBodyParked()) { return }
      case .requestedNext, .requestedSend:
        if takeRequest(current) { return waiter.resume() }
      case .slow, .running, .prefetching:
        // Check in with the machine (`running` cannot hold while the body is at a yield).
        return bodyCheckIn(waiter)
      case .claimed:
        continue
      }
    }
  }
}
