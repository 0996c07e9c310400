import AsyncGenerators
import Hummingbird
import Logging
import ServiceLifecycle

/// Runs an HTTP application inside `withAsyncGeneratorScope`, so that a graceful shutdown
/// (SIGTERM, SIGINT) closes every live generator, awaiting its cleanup, before ``run()``
/// returns, and so before the service group, and the process, end.
///
/// Every generator first iterated by a request handler is tracked by the scope: the server's
/// connection tasks are child tasks of ``run()``, and the scope's hooks are task-local. When
/// graceful shutdown begins, the scope closes the suspended ones at once (a stream whose
/// client is slow is parked at its `yield` while the write waits), so their database cursors
/// are released while the server drains; the scope's exit closes whatever is left when the
/// server has stopped, and waits for those cleanups too.
public struct StreamingService<App: ApplicationProtocol>: Service {
  let application: App
  let logger: Logger

  public init(application: App, logger: Logger) {
    self.application = application
    self.logger = logger
  }

  public func run() async throws {
    let logger = logger
    let onError: @Sendable (any Error) -> Void = { error in
      // A generator with a call in flight (reading its next chunk) is left to its caller: the
      // stream's own loop sees the shutdown and closes it.
      if let error = error as? AsyncGeneratorError, error == .alreadyRunning { return }
      logger.error("closing a generator at shutdown failed: \(error)")
    }
    try await withAsyncGeneratorScope(onError: onError) { scope in
      try await withThrowingDiscardingTaskGroup { group in
        group.addTask {
          do { try await gracefulShutdown() } catch { return }  // cancelled: the server ended
          logger.info("graceful shutdown: closing \(scope.liveGenerators) live generators")
          await scope.shutdownGenerators()
        }
        try await application.run()
        group.cancelAll()
      }
    }
  }
}
