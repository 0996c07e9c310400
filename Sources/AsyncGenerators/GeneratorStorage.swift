import Synchronization

/// What ``AnyAsyncGenerator``, hooks and scopes need of a generator, whatever its types.
protocol GeneratorCore: AnyObject, Sendable {
  var state: AsyncGeneratorState { get }
  nonisolated(nonsending) func close() async throws
  func handleCreated()
  func handleDropped()
  /// Calls `observer` once the generator closes; returns false if it already has.
  func observeClosing(_ observer: @escaping @Sendable () -> Void) -> Bool
}

/// One generator's shared state: the state machine under a lock, the body, and the
/// actions the machine decides, performed after unlocking.
final class GeneratorStorage<Element: Sendable, Sent: Sendable>: GeneratorCore, @unchecked Sendable
{
  typealias Body =
    @Sendable @isolated(any) (AsyncGenerator<Element, Sent>.Yield) async throws -> Void
  typealias Machine = GeneratorStateMachine<Element, Sent>

  private let lock = Lock()
  private var machine = Machine()
  /// The body until it starts (or the generator closes first). Guarded by `lock`.
  private var pendingBody: Body?
  /// A hint, read without the lock, that the hooks still have to be read.
  private let hooksPending = Atomic<Bool>(true)
  private let callIDs = Atomic<UInt64>(0)

  init(body: @escaping Body) {
    pendingBody = body
  }

  deinit {
    lock.deallocate()
  }

  var state: AsyncGeneratorState {
    lock.withLock { machine.state }
  }

  // MARK: Calls

  /// Performs one call and waits for its outcome. `forwardsCancellation` is false for a
  /// `close()` whose caller was already cancelled when it called.
  nonisolated(nonsending) func perform(
    _ call: GeneratorCall<Sent>, forwardsCancellation: Bool = true
  ) async -> CallOutcome<Element> {
    let hooks = hooksPending.load(ordering: .relaxed) ? AsyncGeneratorHooks.current : nil
    let id = callIDs.wrappingAdd(1, ordering: .relaxed).newValue
    return await withTaskCancellationHandler {
      await withUnsafeContinuation { (consumer: Machine.Consumer) in
        begin(call, id: id, consumer: consumer, hooks: hooks, forwards: forwardsCancellation)
      }
    } onCancel: {
      guard forwardsCancellation else { return }
      lock.withLock { machine.callCancelled(id: id) }?.cancel()
    }
  }

  private func begin(
    _ call: GeneratorCall<Sent>, id: UInt64, consumer: Machine.Consumer,
    hooks: AsyncGeneratorHooks?, forwards: Bool
  ) {
    var isFirstCall = false
    var body: Body?
    var observer: (@Sendable () -> Void)?
    let action = lock.withLock {
      if hooksPending.load(ordering: .relaxed) {
        isFirstCall = machine.initializeHooks(finalizer: hooks?.finalizer)
        hooksPending.store(false, ordering: .relaxed)
      }
      // Read under the lock, so a cancellation racing with this call is never lost.
      let cancelled = forwards && Task.isCancelled
      let action = machine.call(call, id: id, consumer: consumer, cancelled: cancelled)
      if case .startBody = action { body = pendingBody }
      if machine.isClosed { pendingBody = nil }
      observer = machine.takeObserverToNotify()
      return action
    }
    if isFirstCall, let firstIteration = hooks?.firstIteration {
      firstIteration(AnyAsyncGenerator(core: self))
    }
    observer?()
    switch action {
    case .resume(let consumer, let outcome):
      consumer.resume(returning: outcome)
    case .startBody:
      if let body { startBody(body) }
    case .resumeBody(let waiter, let resumption, let cancel):
      cancel?.cancel()
      waiter.resume(returning: resumption)
    }
  }

  // MARK: The body

  private func startBody(_ body: @escaping Body) {
    GeneratorDiagnostics.bodyTaskStarted()
    let task = Task(executorPreference: currentTaskExecutor()) { [self] in
      await runBody(body)
    }
    lock.withLock { machine.bodyTaskCreated(task) }?.cancel()
  }

  private func runBody(_ body: Body) async {
    let id = currentTaskID()
    if lock.withLock({ machine.bodyStarted(taskID: id) }) {
      withUnsafeCurrentTask { $0?.cancel() }
    }
    var failure: (any Error)?
    do {
      try await body(AsyncGenerator<Element, Sent>.Yield(storage: self))
    } catch {
      failure = error
    }
    var observer: (@Sendable () -> Void)?
    let answer = lock.withLock {
      let answer = machine.bodyFinished(error: failure)
      observer = machine.takeObserverToNotify()
      return answer
    }
    GeneratorDiagnostics.bodyTaskEnded()
    observer?()
    if let (consumer, outcome) = answer { consumer.resume(returning: outcome) }
  }

  /// The body yields `element`: answers the call in flight, then parks until the next call.
  nonisolated(nonsending) func yield(_ element: Element) async -> YieldResumption<Sent> {
    let id = currentTaskID()
    let cancelled = Task.isCancelled
    return await withUnsafeContinuation { (waiter: Machine.BodyWaiter) in
      let action = lock.withLock {
        machine.yield(element, waiter: waiter, taskID: id, cancelled: cancelled)
      }
      switch action {
      case .resumeBody(let waiter, let resumption): waiter.resume(returning: resumption)
      case .resume(let consumer, let outcome): consumer.resume(returning: outcome)
      }
    }
  }

  // MARK: Finalization

  nonisolated(nonsending) func close() async throws {
    let forwards = !Task.isCancelled
    if case .failed(let error) = await perform(.close, forwardsCancellation: forwards) {
      throw error
    }
  }

  /// The `AsyncGenerator` object went away.
  func objectDropped() {
    switch lock.withLock({ machine.objectDropped() }) {
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
    if lock.withLock({ machine.handleDropped() }) { finalizeDetached() }
  }

  func observeClosing(_ observer: @escaping @Sendable () -> Void) -> Bool {
    lock.withLock { machine.observeClosing(observer) }
  }

  /// The library's own finalization: close in a task of its own, reporting errors.
  private func finalizeDetached() {
    Task.detached { [self] in
      await AnyAsyncGenerator.finalize(self) { AsyncGeneratorHooks.uncaughtErrorHandler($0) }
    }
  }
}

/// The identity of the current task, used to recognise the body's own task.
private func currentTaskID() -> UnsafeRawPointer? {
  withUnsafeCurrentTask { task in task.map { unsafeBitCast($0, to: UnsafeRawPointer.self) } }
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
