/// The kinds of call a consumer makes on a generator.
enum GeneratorCall<Sent: Sendable>: Sendable {
  case next
  case send(Sent)
  case throwError(any Error)
  case close
}

/// What a parked `yield` returns (`value`) or throws (`error`) when the body is resumed.
enum YieldResumption<Sent: Sendable>: Sendable {
  case value(Sent?)
  case error(any Error)
}

/// How a consumer's call ends: an element, the end (`nil`, or a normal `close()`), or an error.
enum CallOutcome<Element: Sendable>: Sendable {
  case element(Element)
  case finished
  case failed(any Error)
}

/// Every state of one generator and every decision about it, with no side effects.
///
/// The storage runs it under its lock; each mutating method returns what to do (resume a
/// continuation, start or cancel the body task), and the storage does it after unlocking.
/// Each continuation handed in leaves the machine in exactly one returned action, so each is
/// resumed exactly once.
struct GeneratorStateMachine<Element: Sendable, Sent: Sendable> {
  typealias Consumer = UnsafeContinuation<CallOutcome<Element>, Never>
  typealias BodyWaiter = UnsafeContinuation<YieldResumption<Sent>, Never>
  typealias Finalizer = @Sendable (AnyAsyncGenerator) -> Void

  /// The call in flight: who waits for it and whether it is a `close()`.
  struct Call {
    let id: UInt64
    let isClose: Bool
    let consumer: Consumer
  }

  private enum Phase {
    case created
    case running(Call)
    case suspended(BodyWaiter)
    case closed
  }

  private var phase = Phase.created

  // The body task, known once created; its identity, known once it runs.
  private var bodyTask: Task<Void, Never>?
  private var bodyTaskID: UnsafeRawPointer?
  /// A cancellation to forward that found no task handle yet.
  private var bodyCancelPending = false

  // Finalization (SPEC section 4).
  private(set) var hooksInitialized = false
  private var finalizer: Finalizer?
  private var objectAlive = true
  private var liveHandles = 0
  private var orphanCloses = 0
  private var abandoned = false
  private var closedObserver: (@Sendable () -> Void)?
  private var observerToNotify: (@Sendable () -> Void)?

  var state: AsyncGeneratorState {
    switch phase {
    case .created: .created
    case .running: .running
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
    /// Answer the call at once.
    case resume(Consumer, CallOutcome<Element>)
    /// Create the body task (then report it with `bodyTaskCreated`).
    case startBody
    /// Resume the parked body; cancel its task first when `cancel` is set.
    case resumeBody(BodyWaiter, YieldResumption<Sent>, cancel: Task<Void, Never>?)
  }

  /// A consumer calls. `cancelled` says the caller is cancelled and forwards cancellation.
  mutating func call(
    _ call: GeneratorCall<Sent>, id: UInt64, consumer: Consumer, cancelled: Bool
  ) -> CallAction {
    switch phase {
    case .running:
      return .resume(consumer, .failed(AsyncGeneratorError.alreadyRunning))

    case .closed:
      return .resume(consumer, .finished)

    case .created:
      switch call {
      case .next:
        phase = .running(Call(id: id, isClose: false, consumer: consumer))
        bodyCancelPending = cancelled
        return .startBody
      case .send:
        return .resume(consumer, .failed(AsyncGeneratorError.sendToJustStarted))
      case .throwError(let error):
        becomeClosed()
        return .resume(consumer, .failed(error))
      case .close:
        becomeClosed()
        return .resume(consumer, .finished)
      }

    case .suspended(let waiter):
      let resumption: YieldResumption<Sent>
      var cancel = cancelled
      switch call {
      case .next: resumption = .value(nil)
      case .send(let value): resumption = .value(value)
      case .throwError(let error): resumption = .error(error)
      case .close:
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
      let isClose = if case .close = call { true } else { false }
      phase = .running(Call(id: id, isClose: isClose, consumer: consumer))
      return .resumeBody(waiter, resumption, cancel: cancel ? cancelBody() : nil)
    }
  }

  /// The caller of call `id` was cancelled: forward it if that call is still in flight.
  mutating func callCancelled(id: UInt64) -> Task<Void, Never>? {
    guard case .running(let call) = phase, call.id == id else { return nil }
    return cancelBody()
  }

  private mutating func cancelBody() -> Task<Void, Never>? {
    guard let task = bodyTask else {
      bodyCancelPending = true
      return nil
    }
    return task
  }

  // MARK: The body task

  /// The body task exists; returns it when a cancellation is waiting for it.
  mutating func bodyTaskCreated(_ task: Task<Void, Never>) -> Task<Void, Never>? {
    guard !isClosed else { return nil }
    bodyTask = task
    guard bodyCancelPending else { return nil }
    bodyCancelPending = false
    return task
  }

  /// The body task begins; returns whether it must cancel itself before running the body.
  mutating func bodyStarted(taskID: UnsafeRawPointer?) -> Bool {
    bodyTaskID = taskID
    defer { bodyCancelPending = false }
    return bodyCancelPending
  }

  enum YieldAction {
    /// Resume the yield at once (it throws).
    case resumeBody(BodyWaiter, YieldResumption<Sent>)
    /// The body is parked; answer the call in flight.
    case resume(Consumer, CallOutcome<Element>)
  }

  /// The body yields `element` from task `taskID` and parks on `waiter`.
  mutating func yield(
    _ element: Element, waiter: BodyWaiter, taskID: UnsafeRawPointer?, cancelled: Bool
  ) -> YieldAction {
    guard case .running(let call) = phase, let bodyTaskID, bodyTaskID == taskID else {
      return .resumeBody(waiter, .error(AsyncGeneratorError.yieldOutsideBody))
    }
    if abandoned { return .resumeBody(waiter, .error(GeneratorExit())) }
    if cancelled { return .resumeBody(waiter, .error(CancellationError())) }
    phase = .suspended(waiter)
    if call.isClose {
      return .resume(call.consumer, .failed(AsyncGeneratorError.ignoredGeneratorExit))
    }
    return .resume(call.consumer, .element(element))
  }

  /// The body returned (`nil`) or threw; returns who to tell and what.
  mutating func bodyFinished(error: (any Error)?) -> (Consumer, CallOutcome<Element>)? {
    bodyTask = nil
    bodyTaskID = nil
    guard case .running(let call) = phase else {
      becomeClosed()
      return nil
    }
    becomeClosed()
    guard let error else { return (call.consumer, .finished) }
    if call.isClose
      && (error is GeneratorExit || (abandoned && error is CancellationError))
    {
      return (call.consumer, .finished)
    }
    return (call.consumer, .failed(error))
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
    closedObserver = observer
    return true
  }

  /// The observer to call now that the generator has closed, once.
  mutating func takeObserverToNotify() -> (@Sendable () -> Void)? {
    defer { observerToNotify = nil }
    return observerToNotify
  }

  private mutating func becomeClosed() {
    phase = .closed
    finalizer = nil
    observerToNotify = closedObserver
    closedObserver = nil
  }
}
