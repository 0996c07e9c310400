#if canImport(Darwin)
  import Darwin
#elseif canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// Finalization hooks (Python's `sys.set_asyncgen_hooks`), installed per task with
/// ``withAsyncGeneratorHooks(_:operation:)``.
///
/// Python's hooks belong to a thread; here they belong to a task (and the child tasks that
/// inherit its task-local values), because a task plays a thread's part. The first call on
/// a generator (`next`, `send`, `throw` or `close`) reads ``current``, calls
/// ``firstIteration`` with a handle on the generator, and keeps ``finalizer``. When the
/// `AsyncGenerator` object then goes away unclosed, the kept finalizer receives a handle
/// that keeps the body alive; it should schedule
/// ``AnyAsyncGenerator/finalize(reportingErrorsTo:)`` (or `close()`) on it.
///
/// ```swift
/// let hooks = AsyncGeneratorHooks(
///   firstIteration: { handle in metrics.generatorStarted() },
///   finalizer: { handle in
///     Task.detached { await handle.finalize { error in logger.error("\(error)") } }
///   }
/// )
/// try await withAsyncGeneratorHooks(hooks) { try await serve() }
/// ```
///
/// ``withAsyncGeneratorScope(shutdownTimeout:onError:_:)`` installs hooks of its own that
/// track and close generators; most code uses a scope rather than hooks.
public struct AsyncGeneratorHooks: Sendable {
  /// Called once, with the generator, when its first call is made (even if that call fails).
  public var firstIteration: (@Sendable (AnyAsyncGenerator) -> Void)?
  /// Called when a generator that read these hooks is abandoned unclosed.
  public var finalizer: (@Sendable (AnyAsyncGenerator) -> Void)?

  /// Creates hooks; a `nil` hook means none.
  public init(
    firstIteration: (@Sendable (AnyAsyncGenerator) -> Void)? = nil,
    finalizer: (@Sendable (AnyAsyncGenerator) -> Void)? = nil
  ) {
    self.firstIteration = firstIteration
    self.finalizer = finalizer
  }

  @TaskLocal static var installed: AsyncGeneratorHooks?

  /// The hooks installed for the current task, if any.
  public static var current: AsyncGeneratorHooks? {
    installed
  }

  /// Where the library reports errors of the finalizations it runs itself (process-wide).
  ///
  /// By default it writes one line to standard error. `CancellationError` is never reported.
  ///
  /// ```swift
  /// AsyncGeneratorHooks.uncaughtErrorHandler = { error in
  ///   logger.warning("an abandoned generator failed to close: \(error)")
  /// }
  /// ```
  public static var uncaughtErrorHandler: @Sendable (any Error) -> Void {
    get { UncaughtErrorHandler.shared.withLock { $0 } }
    set { UncaughtErrorHandler.shared.withLock { $0 = newValue } }
  }
}

/// Runs `operation` with exactly `hooks` installed for the current task: a `nil` hook in
/// `hooks` means none, not the outer one.
///
/// The hooks are task-local: child tasks and `Task {}` inherit them, `Task.detached` does not,
/// and the previous hooks are back when `operation` returns. To change one hook and keep the
/// other, start from the current ones:
///
/// ```swift
/// var hooks = AsyncGeneratorHooks.current ?? AsyncGeneratorHooks()
/// hooks.firstIteration = { handle in metrics.generatorStarted() }
/// try await withAsyncGeneratorHooks(hooks) { try await handleRequest() }
/// ```
nonisolated(nonsending) public func withAsyncGeneratorHooks<R, Failure: Error>(
  _ hooks: AsyncGeneratorHooks,
  operation: nonisolated(nonsending) () async throws(Failure) -> R
) async throws(Failure) -> R {
  let result = await AsyncGeneratorHooks.$installed.withValue(hooks) {
    () async -> Result<R, Failure> in
    do throws(Failure) {
      return .success(try await operation())
    } catch {
      return .failure(error)
    }
  }
  return try result.get()
}

/// The process-wide handler, behind a lock.
final class UncaughtErrorHandler: @unchecked Sendable {
  static let shared = UncaughtErrorHandler()

  private let lock = Lock()
  private var handler: @Sendable (any Error) -> Void = { error in
    writeToStandardError(
      "AsyncGenerators: error while finalizing an abandoned generator: \(error)\n")
  }

  func withLock<R>(_ body: (inout @Sendable (any Error) -> Void) -> R) -> R {
    lock.withLock { body(&handler) }
  }
}

/// Writes `text` to file descriptor 2 (the `stderr` global is not concurrency-safe in Swift 6).
func writeToStandardError(_ text: String) {
  var text = text
  text.withUTF8 { bytes in _ = write(2, bytes.baseAddress, bytes.count) }
}
