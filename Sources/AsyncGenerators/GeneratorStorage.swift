import CAsyncGeneratorsRuntime
import Synchronization

/// What ``AnyAsyncGenerator``, hooks and scopes need of a generator, whatever its types.
protocol GeneratorCore: AnyObject, Sendable {
  var state: AsyncGeneratorState { get }
  nonisolated(nonsending) func close() async throws
  func handleCreated()
  func handleDropped()
  /// Calls `observer` once the generator closes; returns false if it already has.
  func observeClosing(_ observer: @escaping @Sendable () -> Void) -> Bool
  /// The library's own finalization, in a task of its own.
  func finalizeDetached()
  /// A `close()` without a task to wait for it (see `GeneratorStorage.startClose`).
  func startClose(_ completion: @escaping @Sendable ((any Error)?) -> Void)
  func cancelClose()
}

/// One generator's shared state: the state machine under a lock, the body, the lock-free
/// handoff (`GeneratorStorage+Handoff.swift`), and the actions the machine decides,
/// performed after unlocking.
@usableFromInline
final class GeneratorStorage<Element: Sendable, Sent: Sendable>: GeneratorCore, @unchecked Sendable
{
  typealias Body =
    @Sendable @isolated(any) (AsyncGenerator<Element, Sent>.Yield) async throws -> Void
  typealias Machine = GeneratorStateMachine<Element, Sent>

  // The handoff (see `HandoffWord`): the word, and the slots its stages refer to. The
  // word's protocol, not Swift's exclusivity checks, keeps their accesses apart (each is
  // written only by the party its stage names), so those checks are off for them.
  @usableFromInline let word = Atomic<Int>(0)
  /// Written by the body before `delivered`; read by the consumer or a reclaim in it.
  @usableFromInline @exclusivity(unchecked) var elementSlot: Element?
  /// Written by a `send` in `claimed`; read by the body or a reclaim in `requestedSend`.
  @usableFromInline @exclusivity(unchecked) var sentSlot: Sent?
  /// The same for a `throw` (`requestedSend` with the throwing flag); the body clears it.
  @usableFromInline @exclusivity(unchecked) var thrownSlot: (any Error)?
  /// Written by a consumer before it sets the word's consumer-parked flag; valid, and read
  /// by whoever clears that flag, only while it is set. (Slots are copied, never cleared, by
  /// their readers: a stale value is never read.) A reader copies it before its exchange, so
  /// a reclaim and delegation in between may write the same value again: an atomic word
  /// (relaxed; the handoff word orders it) keeps that from being a data race.
  @inlinable var consumerSlot: UnsafeContinuation<CallOutcome<Element>, Never>? {
    get { Self.continuation(consumerSlotBits.load(ordering: .relaxed)) }
    set { consumerSlotBits.store(Self.bits(newValue), ordering: .relaxed) }
  }
  @usableFromInline let consumerSlotBits = Atomic<UInt>(0)
  /// Written by the body before it sets the word's body-parked flag; valid while it is set.
  @inlinable var waiterSlot: UnsafeContinuation<Void, Never>? {
    get { Self.continuation(waiterSlotBits.load(ordering: .relaxed)) }
    set { waiterSlotBits.store(Self.bits(newValue), ordering: .relaxed) }
  }
  @usableFromInline let waiterSlotBits = Atomic<UInt>(0)

  @inlinable
  static func bits<T>(_ continuation: UnsafeContinuation<T, Never>?) -> UInt {
    continuation.map { unsafeBitCast($0, to: UInt.self) } ?? 0
  }

  @inlinable
  static func continuation<T>(_ bits: UInt) -> UnsafeContinuation<T, Never>? {
    bits == 0 ? nil : unsafeBitCast(bits, to: UnsafeContinuation<T, Never>.self)
  }
  /// The task of the call in flight, set by the consumer that posted it.
  @usableFromInline let consumerTask = Atomic<UInt>(0)
  /// The body's task while it runs, so a yield can tell it is in its own body.
  @usableFromInline let bodyTaskID = Atomic<UInt>(0)
  /// The ring of the prefetching iteration, set before the word's `prefetching` stage.
  @usableFromInline @exclusivity(unchecked) var prefetchRing: PrefetchRing<Element, Sent>? {
    didSet { unretainedRing = prefetchRing.map { Unmanaged.passUnretained($0) } }
  }
  /// The same ring, for the body's pushes: it cannot be replaced while the body runs (a new
  /// iteration begins only with the body parked), so they need no retain, which would bounce
  /// its reference count's cache line between the two sides for every element.
  @usableFromInline @exclusivity(unchecked) var unretainedRing:
    Unmanaged<PrefetchRing<Element, Sent>>?
  @usableFromInline let spinning = SpinPolicy()

  /// The consumer's spinning estimate (see `SpinEstimate` for why it is here).
  @usableFromInline let consumerSpin = SpinEstimate()

  // The slow path's state, declared after the handoff's fields, which then share the
  // object's first cache lines (fields are laid out in order).
  private let lock = InlineLock()
  private var machine = Machine()
  /// The body until it starts (or the generator closes first). Guarded by `lock`.
  private var pendingBody: Body?
  /// A hint, read without the lock, that the hooks still have to be read.
  private let hooksPending = Atomic<Bool>(true)

  // The body's own fields, last: it writes them for every element, and on the consumer's
  // cache lines those writes would cost the consumer a miss each time.
  /// What the body's parked yield returns or throws: written by whoever resumes it, just
  /// before resuming it, and taken by the body. Kept here rather than as the continuation's
  /// value so the parked frames hold no generic value: the body task of a suspended
  /// generator then fits in its first allocator slab (about a kilobyte less each).
  @usableFromInline @exclusivity(unchecked) var bodyResumption: YieldResumption<Sent>?
  /// When the body last parked at a yield (the body's own, to time its waits; kept here, not
  /// in the parked frame, which must stay small).
  @usableFromInline @exclusivity(unchecked) var bodyParkedAt: UInt64 = 0
  /// The body's spinning estimate.
  @usableFromInline let bodySpin = SpinEstimate()

  init(body: @escaping Body) {
    pendingBody = body
  }

  var state: AsyncGeneratorState {
    lock.withLock {
      let word = HandoffWord(rawValue: word.load(ordering: .acquiring))
      switch word.stage {
      case .slow, .prefetching: return machine.state
      case .atYield: return .suspended
      default: return .running
      }
    }
  }

  /// Runs `body` on the state machine under the lock, with the phase reclaimed from the
  /// handoff word first and delegated back to it afterwards when possible; then, unlocked,
  /// tells the close observer if the generator has just closed.
  func withMachine<R>(_ body: (inout Machine) -> R) -> R {
    lock.lock()
    reclaim()
    let result = body(&machine)
    if let delegation = machine.delegate() { delegate(delegation) }
    let observer = machine.takeObserverToNotify()
    lock.unlock()
    observer?()
    return result
  }

  // MARK: Calls

  /// Performs one call and waits for its outcome. `forwardsCancellation` is false for a
  /// `close()` whose caller was already cancelled when it called.
  /// (`next` and `send` try the handoff word first: see `handOff`.)
  @usableFromInline
  nonisolated(nonsending) func perform(
    _ call: GeneratorCall<Sent>, forwardsCancellation: Bool = true
  ) async -> CallOutcome<Element> {
    let hooks = hooksToRead()
    let task = currentTaskID()
    return await withTaskCancellationHandler {
      await withUnsafeContinuation { (consumer: Machine.ConsumerContinuation) in
        begin(
          call, task: task, consumer: .task(consumer), hooks: hooks,
          forwards: forwardsCancellation)
      }
    } onCancel: {
      if forwardsCancellation { cancelCall(of: task) }
    }
  }

  private func begin(
    _ call: GeneratorCall<Sent>, task: TaskIdentity, consumer: Machine.Consumer,
    hooks: AsyncGeneratorHooks?, forwards: Bool
  ) {
    var isFirstCall = false
    let (action, cancel) = withMachine { machine in
      isFirstCall = readHooks(&machine, hooks)
      // Read under the lock, so a cancellation racing with this call is never lost.
      let cancelled = forwards && Task.isCancelled
      let decision = machine.call(call, task: task, consumer: consumer, cancelled: cancelled)
      if machine.isClosed { pendingBody = nil }
      return decision
    }
    if isFirstCall { hooks?.firstIteration?(AnyAsyncGenerator(core: self)) }
    cancel?.cancel()
    if case .startBody = action {
      startBody()
    } else {
      perform(action)
    }
  }

  /// The hooks the first call reads: `AsyncGeneratorHooks.current` while they are pending.
  func hooksToRead() -> AsyncGeneratorHooks? {
    hooksPending.load(ordering: .relaxed) ? AsyncGeneratorHooks.current : nil
  }

  /// Under the lock: a first call keeps `hooks`' finalizer; returns whether this is it.
  func readHooks(_ machine: inout Machine, _ hooks: AsyncGeneratorHooks?) -> Bool {
    guard hooksPending.load(ordering: .relaxed) else { return false }
    hooksPending.store(false, ordering: .relaxed)
    return machine.initializeHooks(finalizer: hooks?.finalizer)
  }

  /// Takes the body to start (under the lock).
  func takePendingBody() -> Body? {
    defer { pendingBody = nil }
    return pendingBody
  }

  /// Forwards the cancellation of `task`'s caller to the body, if that call is in flight.
  @usableFromInline
  func cancelCall(of task: UInt) {
    let toCancel: Task<Void, Never>? = lock.withLock {
      let word = HandoffWord(rawValue: word.load(ordering: .acquiring))
      switch word.stage {
      case .slow:
        return machine.callCancelled(task: task)
      case .requestedNext, .requestedSend, .running:
        return consumerTask.load(ordering: .relaxed) == task ? machine.cancelBody() : nil
      case .atYield, .claimed, .delivered, .prefetching:
        return nil
      }
    }
    toCancel?.cancel()
  }

  /// Resumes the body's parked yield with `resumption`.
  @usableFromInline
  func resumeBody(_ waiter: UnsafeContinuation<Void, Never>, _ resumption: YieldResumption<Sent>) {
    bodyResumption = resumption
    waiter.resume()
  }

  /// Performs what the state machine decided (after the lock is released).
  func perform(_ action: Machine.CallAction) {
    switch action {
    case .none, .startBody: break
    case .resume(let consumer, let outcome): consumer.resume(returning: outcome)
    case .resumeBody(let waiter, let resumption): resumeBody(waiter, resumption)
    case .finalizeAfterPrefetch:
      if let finalizer = withMachine({ machine -> Machine.Finalizer? in
        guard let finalizer = machine.keptFinalizer else { return nil }
        machine.handleCreated()
        return finalizer
      }) {
        finalizer(AnyAsyncGenerator(core: self, counted: true))
      } else {
        finalizeDetached()
      }
    case .finishPrefetch(let error): prefetchRing?.finish(throwing: error)
    case .report(let error): AsyncGeneratorHooks.uncaughtErrorHandler(error)
    }
  }

  // MARK: The body

  /// Starts the body task (the body stays in `pendingBody` until it runs: a closure that
  /// captures only `self` costs no allocation).
  func startBody() {
    GeneratorDiagnostics.bodyTaskStarted()
    let task: Task<Void, Never>
    if let executor = currentTaskExecutor() {
      task = Task(executorPreference: executor) { [self] in await runBody() }
    } else {
      // Without a preference, a plain task: the preference record would cost the body task
      // an allocator slab (a kilobyte per suspended generator).
      task = Task { [self] in await runBody() }
    }
    withMachine { $0.bodyTaskCreated(task) }?.cancel()
  }

  private func runBody() async {
    let body = lock.withLock { takePendingBody() }
    let id = currentTaskID()
    spinning.bodyExecutor.store(executorKey(isolation: body?.isolation), ordering: .relaxed)
    bodyTaskID.store(id, ordering: .relaxed)
    if withMachine({ $0.bodyStarted(taskID: id) }) {
      withUnsafeCurrentTask { $0?.cancel() }
    }
    var failure: (any Error)?
    do {
      try await body?(AsyncGenerator<Element, Sent>.Yield(storage: self))
    } catch {
      failure = error
    }
    bodyTaskID.store(0, ordering: .relaxed)
    let action = withMachine { $0.bodyFinished(error: failure) }
    GeneratorDiagnostics.bodyTaskEnded()
    perform(action)
  }

  // MARK: Finalization

  nonisolated(nonsending) func close() async throws {
    let forwards = !Task.isCancelled
    if case .failed(let error) = await perform(.close, forwardsCancellation: forwards) {
      throw error
    }
  }

  /// Starts a `close()` that no task waits for: `completion` gets its outcome (`nil`, or the
  /// error it would throw), on whichever thread ends it. A caller's cancellation is not
  /// involved; `cancelClose()` forwards one.
  func startClose(_ completion: @escaping @Sendable ((any Error)?) -> Void) {
    begin(
      .close, task: 0,
      consumer: .callback { outcome in
        if case .failed(let error) = outcome { completion(error) } else { completion(nil) }
      },
      hooks: hooksToRead(), forwards: false)
  }

  /// Cancels the body of a close in flight (a close started by `startClose`, whose caller
  /// has no task to cancel).
  func cancelClose() {
    withMachine { $0.closeInFlightCancelled() }?.cancel()
  }

  /// The `AsyncGenerator` object went away.
  func objectDropped() {
    switch withMachine({ $0.objectDropped() }) {
    case .none: break
    case .callFinalizer(let finalizer):
      // The machine counted this handle already.
      finalizer(AnyAsyncGenerator(core: self, counted: true))
    case .finalize:
      finalizeDetached()
    }
  }

  func handleCreated() {
    lock.withLock { machine.handleCreated() }
  }

  func handleDropped() {
    if withMachine({ $0.handleDropped() }) { finalizeDetached() }
  }

  func observeClosing(_ observer: @escaping @Sendable () -> Void) -> Bool {
    withMachine { $0.observeClosing(observer) }
  }

  /// The library's own finalization: close in a task of its own, reporting errors.
  ///
  /// The task holds a handle: while it runs, dropping the object or another handle starts no
  /// second finalization, and when it ends, a generator it left open (an orphan whose body
  /// ignored the close) is finalized again, as no reference to it remains.
  func finalizeDetached() {
    let handle = AnyAsyncGenerator(core: self)
    Task.detached {
      await handle.finalize { AsyncGeneratorHooks.uncaughtErrorHandler($0) }
    }
  }

  // MARK: Reclaiming and delegating the phase (under the lock)

  /// Takes the phase back from the handoff word, if it holds it.
  private func reclaim() {
    while true {
      let current = HandoffWord(rawValue: word.load(ordering: .acquiring))
      switch current.stage {
      case .slow, .prefetching:
        return
      case .claimed:
        continue  // A send is writing its slot; it publishes in an instant.
      case .atYield, .requestedNext, .requestedSend, .running, .delivered:
        guard exchange(current, .slow) else { continue }
        machine.reclaim(snapshot(of: current))
        return
      }
    }
  }

  private func snapshot(of word: HandoffWord) -> Machine.HandoffSnapshot {
    let consumer = word.isConsumerParked ? consumerSlot.map(Machine.Consumer.task) : nil
    let waiter = word.isBodyParked ? waiterSlot : nil
    let task = consumerTask.load(ordering: .relaxed)
    switch word.stage {
    case .requestedNext:
      return .requested(.value(nil), consumer: consumer, task: task)
    case .requestedSend:
      let request: YieldResumption<Sent> =
        word.isThrowing ? .error(thrownSlot ?? CancellationError()) : .value(sentSlot)
      return .requested(request, consumer: consumer, task: task)
    case .delivered:
      if let element = elementSlot { return .delivered(element, waiter: waiter, task: task) }
      return .running(consumer: consumer, task: task)
    case .running:
      return .running(consumer: consumer, task: task)
    case .slow, .atYield, .claimed, .prefetching:
      return .atYield(waiter)
    }
  }

  private func delegate(_ delegation: Machine.Delegation) {
    switch delegation {
    case .atYield(let waiter):
      waiterSlot = waiter
      word.store(HandoffWord(.atYield, bodyParked: true).rawValue, ordering: .releasing)
    case .running(let consumer, let task):
      consumerSlot = consumer
      consumerTask.store(task, ordering: .relaxed)
      word.store(HandoffWord(.running, consumerParked: true).rawValue, ordering: .releasing)
    }
  }

  /// Moves the word from `expected` to `desired`; false if it was no longer `expected`.
  @inlinable
  func exchange(_ expected: HandoffWord, _ desired: HandoffWord) -> Bool {
    word.compareExchange(
      expected: expected.rawValue, desired: desired.rawValue, ordering: .acquiringAndReleasing
    ).exchanged
  }

  /// The consumer, away when the phase was reclaimed, checks in to wait on `consumer`.
  func consumerCheckIn(_ consumer: Machine.ConsumerContinuation, task: TaskIdentity) {
    perform(withMachine { $0.consumerCheckIn(.task(consumer), task: task) })
  }

  /// The body, away at a yield when the phase was reclaimed, checks in to wait on `waiter`.
  func bodyCheckIn(_ waiter: Machine.BodyWaiter) {
    perform(withMachine { $0.bodyCheckIn(waiter) })
  }
}

/// The identity of the current task (its address), used to recognise the body's own task
/// and each call; 0 outside a task.
@inlinable
func currentTaskID() -> UInt {
  UInt(bitPattern: ag_current_task())
}

/// The current task's identity and whether it is cancelled (see CAsyncGeneratorsRuntime:
/// `Task.isCancelled` would retain and release the task for every element).
@inlinable
func currentTask() -> (id: UInt, isCancelled: Bool) {
  guard let task = ag_current_task() else { return (0, false) }
  return (UInt(bitPattern: task), ag_task_is_cancelled(task))
}

/// Whether the current task is cancelled (`Task.isCancelled`, without its retain/release).
@inlinable
func currentTaskIsCancelled() -> Bool {
  guard let task = ag_current_task() else { return false }
  return ag_task_is_cancelled(task)
}

/// The current task's executor preference, which `Task {}` does not inherit by itself.
private func currentTaskExecutor() -> (any TaskExecutor)? {
  withUnsafeCurrentTask { task -> (any TaskExecutor)? in
    guard let executor = task?.unownedTaskExecutor else { return nil }
    #if os(Linux) || os(Windows) || os(Android)
      return executor.asTaskExecutor()
    #else
      if #available(macOS 26.4, iOS 26.4, watchOS 26.4, tvOS 26.4, visionOS 26.4, *) {
        return executor.asTaskExecutor()
      }
      return nil
    #endif
  }
}
