import AsyncGenerators

/// A generator that yields `0..<count`, logging `"<name> cleanup"` in an awaiting cleanup
/// (which first waits for `gate`, if given) and `"<name> ended"` when its body ends.
func cleanupGenerator(
  _ name: String, count: Int = 100, log: EventLog, gate: Gate? = nil,
  cleanupError: (any Error)? = nil
) -> AsyncGenerator<Int, Void> {
  AsyncGenerator { yield in
    do {
      for i in 0..<count { try await yield(i) }
    } catch {
      log.append("\(name) cleanup started")
      await gate?.wait()
      await Task.yield()
      log.append("\(name) cleanup")
      log.append("\(name) ended")
      throw cleanupError ?? error
    }
    log.append("\(name) ended")
  }
}

/// Takes one element from the generator `make` builds, then drops the generator: its last
/// reference goes away when this returns.
func takeOneAndDrop(_ make: () -> AsyncGenerator<Int, Void>) async throws {
  let generator = make()
  _ = try await generator.next()
}

/// Waits, with a bound, until `condition` holds (polling with `Task.yield()`).
func eventually(
  _ duration: Duration = .seconds(10), _ condition: @Sendable () -> Bool
) async -> Bool {
  let deadline = ContinuousClock.now.advanced(by: duration)
  while !condition() {
    if ContinuousClock.now > deadline { return false }
    try? await Task.sleep(for: .milliseconds(1))
  }
  return true
}

/// Records the handles and errors a test's hooks and scopes receive.
final class HookRecorder: Sendable {
  let firstIterations = Locked<[AnyAsyncGenerator]>([])
  let finalized = Locked<[AnyAsyncGenerator]>([])
  let errors = Locked<[String]>([])

  /// Hooks that record, with a finalizer that keeps the handle and does nothing else.
  var recordingHooks: AsyncGeneratorHooks {
    AsyncGeneratorHooks(
      firstIteration: { handle in self.firstIterations.withLock { $0.append(handle) } },
      finalizer: { handle in self.finalized.withLock { $0.append(handle) } }
    )
  }

  /// An `onError` for scopes.
  var report: @Sendable (any Error) -> Void {
    { error in self.errors.withLock { $0.append(String(describing: error)) } }
  }
}
