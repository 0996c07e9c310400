/// A type-erased handle on a generator, as hooks and scopes receive it.
///
/// Handles are equal when they refer to the same generator. A handle keeps the generator's
/// body alive: when neither the `AsyncGenerator` object nor any handle on an unclosed,
/// started generator remains, the library closes it itself.
///
/// A finalizer receives a handle on each abandoned generator and schedules its close:
///
/// ```swift
/// let hooks = AsyncGeneratorHooks(finalizer: { handle in
///   Task.detached { await handle.finalize { error in logger.error("\(error)") } }
/// })
/// ```
public struct AnyAsyncGenerator: Sendable, Hashable {
  let box: HandleBox

  /// A handle on `generator`.
  public init<Element, Sent>(_ generator: AsyncGenerator<Element, Sent>) {
    self.init(core: generator.storage)
  }

  init(core: any GeneratorCore, counted: Bool = false) {
    box = HandleBox(core: core, counted: counted)
  }

  var core: any GeneratorCore { box.core }

  /// The generator's state.
  public var state: AsyncGeneratorState {
    core.state
  }

  /// Closes the generator, as ``AsyncGenerator/close()`` does.
  nonisolated(nonsending) public func close() async throws {
    try await core.close()
  }

  /// Closes as the library's own finalization does: closes; if the body ignored
  /// `GeneratorExit`, reports that and closes again (an orphan's second close abandons the
  /// body); reports any other error except `CancellationError`.
  nonisolated(nonsending) public func finalize(
    reportingErrorsTo report: (any Error) -> Void
  ) async {
    await Self.finalize(core, reportingErrorsTo: report)
  }

  nonisolated(nonsending) static func finalize(
    _ core: any GeneratorCore, reportingErrorsTo report: (any Error) -> Void
  ) async {
    do {
      try await core.close()
    } catch AsyncGeneratorError.ignoredGeneratorExit {
      report(AsyncGeneratorError.ignoredGeneratorExit)
      do {
        try await core.close()
      } catch is CancellationError {
      } catch {
        report(error)
      }
    } catch is CancellationError {
    } catch {
      report(error)
    }
  }

  /// `finalize(reportingErrorsTo:)` without a task: each close is started with
  /// `startClose`, and `done` runs once the finalization is over.
  static func startFinalizing(
    _ core: any GeneratorCore, reportingErrorsTo report: @escaping @Sendable (any Error) -> Void,
    done: @escaping @Sendable () -> Void
  ) {
    core.startClose { error in
      guard let error else { return done() }
      switch error {
      case AsyncGeneratorError.ignoredGeneratorExit:
        report(error)
        core.startClose { error in
          if let error, !(error is CancellationError) { report(error) }
          done()
        }
      case is CancellationError:
        done()
      default:
        report(error)
        done()
      }
    }
  }

  /// Whether both handles refer to the same generator.
  public static func == (lhs: AnyAsyncGenerator, rhs: AnyAsyncGenerator) -> Bool {
    lhs.core === rhs.core
  }

  /// Hashes the generator's identity, so that handles on one generator hash alike.
  public func hash(into hasher: inout Hasher) {
    hasher.combine(ObjectIdentifier(core))
  }
}

/// One counted reference on a generator; copies of a handle share it.
final class HandleBox: Sendable {
  let core: any GeneratorCore

  init(core: any GeneratorCore, counted: Bool) {
    self.core = core
    if !counted { core.handleCreated() }
  }

  deinit {
    core.handleDropped()
  }
}
