/// The kinds of call a consumer makes on a generator.
@usableFromInline
enum GeneratorCall<Sent: Sendable>: Sendable {
  case next
  case send(Sent)
  case throwError(any Error)
  case close
}

/// What a parked `yield` returns (`value`) or throws (`error`) when the body is resumed.
@usableFromInline
enum YieldResumption<Sent: Sendable>: Sendable {
  case value(Sent?)
  case error(any Error)
}

/// How a consumer's call ends: an element, the end (`nil`, or a normal `close()`), or an error.
@usableFromInline
enum CallOutcome<Element: Sendable>: Sendable {
  case element(Element)
  case finished
  case failed(any Error)
}

/// The identity of a task (its address), which tells calls and the body's task apart.
typealias TaskIdentity = UInt

/// Every state of one generator and every decision about it, with no side effects.
///
/// The storage runs it under its lock; each mutating method returns what to do (resume a
/// continuation, start or cancel the body task), and the storage does it after unlocking.
/// Each continuation handed in leaves the machine in exactly one returned action (or in a
/// ``Delegation``), so each is resumed exactly once.
///
/// In steady state the machine *delegates* the element handoff to the storage's lock-free
/// handoff word (see `HandoffWord`): `next`/`send` and `yield` then meet there without the
/// lock. Any other event first *reclaims* the phase from the word (`reclaim(_:)`). A party
/// that was spinning on the word when it was reclaimed is *away*: it has no continuation here
/// yet and checks in under the lock (`consumerCheckIn`, `bodyCheckIn`); the machine never
/// delegates while a party is away.
struct GeneratorStateMachine<Element: Sendable, Sent: Sendable> {
  typealias ConsumerContinuation = UnsafeContinuation<CallOutcome<Element>, Never>

  /// Who waits for a call: a parked task, or a callback (the closes a scope's shutdown
  /// starts, many at once, without a task each).
  enum Consumer {
    case task(ConsumerContinuation)
    case callback(@Sendable (CallOutcome<Element>) -> Void)

    func resume(returning outcome: CallOutcome<Element>) {
      switch self {
      case .task(let continuation): continuation.resume(returning: outcome)
      case .callback(let callback): callback(outcome)
      }
    }
  }
  /// The body's continuation at a yield: whoever resumes it first writes the resumption into
  /// the storage's slot (a generic value the parked frames need not hold: see the storage).
  typealias BodyWaiter = UnsafeContinuation<Void, Never>
  typealias Finalizer = @Sendable (AnyAsyncGenerator) -> Void

  /// The call in flight.
  struct Call {
    /// The calling task, so a cancellation handler can recognise its own call.
    var task: TaskIdentity
    let isClose: Bool
    /// `nil` while the consumer is away.
    var consumer: Consumer?
    /// An outcome posted while the consumer was away.
    var outcome: CallOutcome<Element>?
  }

  /// Where the body is while a call is in flight.
  enum BodyProgress {
    /// The body task is created but has not begun.
    case starting
    /// Running the body's own code.
    case executing
    /// Away at a yield; takes this resumption when it checks in.
    case resuming(YieldResumption<Sent>)
    /// At a yield, its outcome posted for an away consumer (`nil` while the body is away).
    case atYield(BodyWaiter?)
    /// Ended, its outcome posted for an away consumer.
    case finished
  }

  private enum Phase {
    case created
    case running(Call, BodyProgress)
    /// At a yield with no call in flight; `nil` while the body is away.
    case suspended(BodyWaiter?)
    /// The handoff word holds the phase.
    case delegated
    /// A prefetching iteration owns the generator; `bodyEnded` once the body returned or
    /// threw (the iteration may still be delivering what it fetched).
    case prefetching(bodyEnded: Bool)
    /// The prefetching iteration ended early while the body ran: its next yield parks it
    /// for the close that follows.
    case prefetchEnding
    case closed
  }

  private var phase = Phase.created

  // The body task, known once created; its identity, known once it runs.
  private var bodyTask: Task<Void, Never>?
  private(set) var bodyTaskID: TaskIdentity = 0
  /// A cancellation to forward that found no task handle yet.
  private var bodyCancelPending = false

  // Finalization (SPEC section 4).
  private(set) var hooksInitialized = false
  /// The kept finalizer and the close observer, allocated only when there are any.
  private var record: FinalizationRecord?
  private var objectAlive = true
  private var abandoned = false
  private var orphanCloses: UInt8 = 0
  private var liveHandles: Int32 = 0

  /// Rarely present, so kept out of line: most generators never read a hook.
  final class FinalizationRecord {
    var finalizer: Finalizer?
    var closedObserver: (@Sendable () -> Void)?

    init(_ finalizer: Finalizer? = nil) {
      self.finalizer = finalizer
    }
  }

  private var finalizer: Finalizer? {
    get { record?.finalizer }
    set {
      if let record {
        record.finalizer = newValue
      } else if let newValue {
        record = .init(newValue)
      }
    }
  }

  var state: AsyncGeneratorState {
    switch phase {
    case .created: .created
    case .running, .delegated, .prefetching, .prefetchEnding: .running
    case .suspended: .suspended
    case .closed: .closed
    }
  }

  var isClosed: Bool {
    if case .closed = phase { return true }
    return false
  }

  // MARK: Calls

  enum CallAction {
    case none
    /// Answer the call at once.
    case resume(Consumer, CallOutcome<Element>)
    /// A prefetching iteration ended early and the body is parked: close it as a
    /// finalization does (through the kept finalizer, else the library's own task).
    case finalizeAfterPrefetch
    /// The body of a prefetching iteration ended: tell the ring.
    case finishPrefetch((any Error)?)
    /// An error nobody waits for: report it as finalization errors are.
    case report(any Error)
    /// Create the body task (then report it with `bodyTaskCreated`).
    case startBody
    /// Resume the parked body.
    case resumeBody(BodyWaiter, YieldResumption<Sent>)
  }

  /// A consumer calls from `task`. `cancelled` says the caller is cancelled and forwards
  /// cancellation. The second result is a body task to cancel.
  mutating func call(
    _ call: GeneratorCall<Sent>, task: TaskIdentity, consumer: Consumer, cancelled: Bool
  ) -> (CallAction, cancel: Task<Void, Never>?) {
    switch phase {
    case .running, .delegated, .prefetching, .prefetchEnding:
      return (.resume(consumer, .failed(AsyncGeneratorError.alreadyRunning)), nil)

    case .closed:
      return (.resume(consumer, .finished), nil)

    case .created:
      switch call {
      case .next:
        phase = .running(Call(task: task, isClose: false, consumer: consumer), .starting)
        bodyCancelPending = cancelled
        return (.startBody, nil)
      case .send:
        return (.resume(consumer, .failed(AsyncGeneratorError.sendToJustStarted)), nil)
      case .throwError(let error):
        becomeClosed()
        return (.resume(consumer, .failed(error)), nil)
      case .close:
        becomeClosed()
        return (.resume(consumer, .finished), nil)
      }

    case .suspended(let waiter):
      let resumption: YieldResumption<Sent>
      var cancel = cancelled
      var isClose = false
      switch call {
      case .next: resumption = .value(nil)
      case .send(let value): resumption = .value(value)
      case .throwError(let error): resumption = .error(error)
      case .close:
        isClose = true
        resumption = .error(GeneratorExit())
        if !objectAlive {
          orphanCloses += 1
          // The second close of an orphan abandons a body that ignores GeneratorExit.
          if orphanCloses >= 2 {
            abandoned = true
            cancel = true
          }
        }
      }
      let call = Call(task: task, isClose: isClose, consumer: consumer)
      let toCancel = cancel ? cancelBody() : nil
      guard let waiter else {
        phase = .running(call, .resuming(resumption))
        return (.none, toCancel)
      }
      phase = .running(call, .executing)
      return (.resumeBody(waiter, resumption), toCancel)
    }
  }

  /// The caller in `task` was cancelled: returns the body task to cancel if that task's call
  /// is in flight.
  mutating func callCancelled(task: TaskIdentity) -> Task<Void, Never>? {
    guard case .running(let call, _) = phase, call.task == task else { return nil }
    return cancelBody()
  }

  /// A cancellation for the close in flight, if a close is in flight: the body task to
  /// cancel.
  mutating func closeInFlightCancelled() -> Task<Void, Never>? {
    guard case .running(let call, _) = phase, call.isClose else { return nil }
    return cancelBody()
  }

  /// The body task to cancel now, or `nil` after noting that it must be cancelled once known.
  mutating func cancelBody() -> Task<Void, Never>? {
    guard let task = bodyTask else {
      bodyCancelPending = true
      return nil
    }
    return task
  }

  /// The consumer of the call in flight was away and checks in, now waiting on `consumer`.
  mutating func consumerCheckIn(_ consumer: Consumer, task: TaskIdentity) -> CallAction {
    guard case .running(var call, let body) = phase, call.consumer == nil else {
      return .resume(consumer, .failed(AsyncGeneratorError.alreadyRunning))
    }
    guard let outcome = call.outcome else {
      call.consumer = consumer
      call.task = task
      phase = .running(call, body)
      return .none
    }
    switch body {
    case .finished: becomeClosed()
    case .atYield(let waiter): phase = .suspended(waiter)
    case .starting, .executing, .resuming: break
    }
    return .resume(consumer, outcome)
  }

  // MARK: The body task

  /// The body task exists; returns it when a cancellation is waiting for it. (The flag
  /// stays set: if the body begins before the caller gets to cancel it, `bodyStarted` has it
  /// cancel itself first, so it never runs a line uncancelled.)
  mutating func bodyTaskCreated(_ task: Task<Void, Never>) -> Task<Void, Never>? {
    guard !isClosed else { return nil }
    bodyTask = task
    return bodyCancelPending ? task : nil
  }

  /// The body task begins; returns whether it must cancel itself before running the body.
  mutating func bodyStarted(taskID: TaskIdentity) -> Bool {
    bodyTaskID = taskID
    if case .running(let call, .starting) = phase { phase = .running(call, .executing) }
    defer { bodyCancelPending = false }
    return bodyCancelPending
  }

  /// The body yields `element` from task `taskID` and parks on `waiter`.
  mutating func yield(
    _ element: Element, waiter: BodyWaiter, taskID: TaskIdentity, cancelled: Bool
  ) -> CallAction {
    if case .prefetchEnding = phase, bodyTaskID == taskID, taskID != 0 {
      // The element was fetched ahead for an iteration that is gone: discard it and park
      // the body here, for the close that `prefetchEnded` asked for.
      phase = .suspended(waiter)
      return .finalizeAfterPrefetch
    }
    guard case .running(let call, .executing) = phase, bodyTaskID == taskID, taskID != 0 else {
      return .resumeBody(waiter, .error(AsyncGeneratorError.yieldOutsideBody))
    }
    if abandoned { return .resumeBody(waiter, .error(GeneratorExit())) }
    if cancelled { return .resumeBody(waiter, .error(CancellationError())) }
    let outcome: CallOutcome<Element> =
      call.isClose ? .failed(AsyncGeneratorError.ignoredGeneratorExit) : .element(element)
    guard let consumer = call.consumer else {
      phase = .running(
        Call(task: call.task, isClose: call.isClose, outcome: outcome), .atYield(waiter))
      return .none
    }
    phase = .suspended(waiter)
    return .resume(consumer, outcome)
  }

  /// The body was away at a yield and checks in, now waiting on `waiter`.
  mutating func bodyCheckIn(_ waiter: BodyWaiter) -> CallAction {
    if case .prefetching = phase, prefetchResumePending {
      prefetchResumePending = false
      return .resumeBody(waiter, .value(nil))
    }
    switch phase {
    case .suspended(nil):
      phase = .suspended(waiter)
      return .none
    case .running(let call, .resuming(let resumption)):
      phase = .running(call, .executing)
      return .resumeBody(waiter, resumption)
    case .running(let call, .atYield(nil)):
      phase = .running(call, .atYield(waiter))
      return .none
    default:
      return .resumeBody(waiter, .error(AsyncGeneratorError.yieldOutsideBody))
    }
  }

  /// The body returned (`nil`) or threw; returns who to tell and what.
  mutating func bodyFinished(error: (any Error)?) -> CallAction {
    bodyTask = nil
    bodyTaskID = 0
    switch phase {
    case .prefetching:
      phase = .prefetching(bodyEnded: true)
      return .finishPrefetch(error)
    case .prefetchEnding:
      becomeClosed()
      let quiet = error == nil || error is GeneratorExit || error is CancellationError
      return quiet ? .none : .report(error ?? CancellationError())
    case .running: break
    case .created, .suspended, .delegated, .closed:
      becomeClosed()
      return .none
    }
    guard case .running(let call, _) = phase else { return .none }
    let outcome: CallOutcome<Element>
    if let error {
      let closedCleanly =
        call.isClose && (error is GeneratorExit || (abandoned && error is CancellationError))
      outcome = closedCleanly ? .finished : .failed(error)
    } else {
      outcome = .finished
    }
    guard let consumer = call.consumer else {
      phase = .running(Call(task: call.task, isClose: call.isClose, outcome: outcome), .finished)
      return .none
    }
    becomeClosed()
    return .resume(consumer, outcome)
  }

  // MARK: Prefetching

  enum PrefetchStart {
    case startBody
    case resumeBody(BodyWaiter)
    /// The body is away; it takes `.value(nil)` when it checks in.
    case bodyAway
    case ended
    case alreadyRunning
  }

  /// A prefetching iteration begins; the generator is its own until `prefetchEnded`.
  mutating func beginPrefetch(cancelled: Bool) -> (PrefetchStart, cancel: Task<Void, Never>?) {
    switch phase {
    case .created:
      phase = .prefetching(bodyEnded: false)
      bodyCancelPending = cancelled
      return (.startBody, nil)
    case .suspended(let waiter):
      phase = .prefetching(bodyEnded: false)
      let cancel = cancelled ? cancelBody() : nil
      guard let waiter else {
        prefetchResumePending = true
        return (.bodyAway, cancel)
      }
      return (.resumeBody(waiter), cancel)
    case .closed:
      return (.ended, nil)
    case .running, .delegated, .prefetching, .prefetchEnding:
      return (.alreadyRunning, nil)
    }
  }

  /// A resumption owed to an away body when a prefetching iteration began.
  private var prefetchResumePending = false

  /// The prefetching iteration ended; `parkedProducer` is the body if it was parked on a
  /// full ring.
  mutating func prefetchEnded(parkedProducer: BodyWaiter?) -> CallAction {
    guard case .prefetching(let bodyEnded) = phase else { return .none }
    if bodyEnded {
      becomeClosed()
      return .none
    }
    guard let parkedProducer else {
      phase = .prefetchEnding
      return .none
    }
    phase = .suspended(parkedProducer)
    return .finalizeAfterPrefetch
  }

  /// The finalizer to run for a close after a prefetching iteration (it stays kept).
  var keptFinalizer: Finalizer? { finalizer }

  // MARK: The handoff word

  /// The phase as the handoff word held it when it was reclaimed.
  enum HandoffSnapshot {
    case atYield(BodyWaiter?)
    case requested(YieldResumption<Sent>, consumer: Consumer?, task: TaskIdentity)
    case running(consumer: Consumer?, task: TaskIdentity)
    case delivered(Element, waiter: BodyWaiter?, task: TaskIdentity)
  }

  /// The storage took the phase back from the handoff word.
  mutating func reclaim(_ snapshot: HandoffSnapshot) {
    switch snapshot {
    case .atYield(let waiter):
      phase = .suspended(waiter)
    case .requested(let resumption, let consumer, let task):
      phase = .running(Call(task: task, isClose: false, consumer: consumer), .resuming(resumption))
    case .running(let consumer, let task):
      phase = .running(Call(task: task, isClose: false, consumer: consumer), .executing)
    case .delivered(let element, let waiter, let task):
      phase = .running(
        Call(task: task, isClose: false, outcome: .element(element)), .atYield(waiter))
    }
  }

  /// What the handoff word takes over.
  enum Delegation {
    /// The body parked at a yield, no call in flight.
    case atYield(BodyWaiter)
    /// A `next`/`send`/`throw` in flight, its consumer parked, the body executing.
    case running(ConsumerContinuation, task: TaskIdentity)
  }

  /// Hands the phase to the handoff word when it is one the word can hold: nobody away,
  /// no close in flight, not abandoned.
  mutating func delegate() -> Delegation? {
    guard !abandoned else { return nil }
    switch phase {
    case .suspended(let waiter?):
      phase = .delegated
      return .atYield(waiter)
    case .running(let call, .executing) where !call.isClose && call.outcome == nil:
      guard case .task(let consumer)? = call.consumer else { return nil }
      phase = .delegated
      return .running(consumer, task: call.task)
    default:
      return nil
    }
  }

  // MARK: Finalization

  /// The first call reads the hooks; returns whether this call is the first.
  mutating func initializeHooks(finalizer: Finalizer?) -> Bool {
    guard !hooksInitialized else { return false }
    hooksInitialized = true
    self.finalizer = finalizer
    return true
  }

  enum DropAction {
    case none
    /// Hand a new handle to the kept finalizer.
    case callFinalizer(Finalizer)
    /// Nothing references the generator any more: close it in a task of the library's own.
    case finalize
  }

  /// The `AsyncGenerator` object went away.
  mutating func objectDropped() -> DropAction {
    objectAlive = false
    guard hooksInitialized, !isClosed else { return .none }
    if let finalizer {
      self.finalizer = nil
      liveHandles += 1
      return .callFinalizer(finalizer)
    }
    return liveHandles == 0 ? .finalize : .none
  }

  mutating func handleCreated() {
    liveHandles += 1
  }

  /// A handle went away; returns whether the library must now finalize the generator.
  mutating func handleDropped() -> Bool {
    liveHandles -= 1
    return liveHandles == 0 && !objectAlive && hooksInitialized && !isClosed
  }

  /// Registers a callback for when the generator closes; returns false if it already has.
  mutating func observeClosing(_ observer: @escaping @Sendable () -> Void) -> Bool {
    guard !isClosed else { return false }
    if record == nil { record = FinalizationRecord() }
    record?.closedObserver = observer
    return true
  }

  /// The close observer, once the generator has closed (then only once).
  mutating func takeObserverToNotify() -> (@Sendable () -> Void)? {
    guard isClosed, let record else { return nil }
    defer { self.record = nil }
    return record.closedObserver
  }

  private mutating func becomeClosed() {
    phase = .closed
    finalizer = nil
  }
}
