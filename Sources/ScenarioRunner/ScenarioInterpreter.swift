import AsyncGenerators

/// Runs scenarios as SCENARIOS.md describes: the body interpreted inside an
/// `AsyncGenerator<Int, Int>`, the operations performed by the body of a
/// `withAsyncGeneratorScope` (as CPython's main coroutine performs them under `asyncio.run`).
enum ScenarioInterpreter {
  /// Runs one scenario to its end (the scope has finished) and returns its trace.
  static func run(_ scenario: Scenario) async -> [TraceEvent] {
    let log = TraceLog()
    let onError: @Sendable (any Error) -> Void = { log.append(.finalizeError(traceName(of: $0))) }
    await withAsyncGeneratorScope(onError: onError) { _ in
      await performOperations(of: scenario, log: log)
    }
    log.append(.done)
    return log.events
  }

  /// Creates the generator, performs the operations, then drops the only reference to it.
  private static func performOperations(of scenario: Scenario, log: TraceLog) async {
    let body = scenario.body
    var generator: AsyncGenerator<Int, Int>? = AsyncGenerator { yield in
      _ = try await BodyInterpreter(yield: yield, log: log).run(body)
    }
    for (index, operation) in scenario.ops.enumerated() {
      log.append(await perform(operation, index: index, on: generator!))
    }
    // Logged while the generator is certainly alive, so that no cleanup event can precede
    // it; the assignment then releases the last reference, which calls the scope's finalizer.
    withExtendedLifetime(generator) { log.append(.dropped) }
    generator = nil
  }

  private static func perform(
    _ operation: Operation, index: Int, on generator: AsyncGenerator<Int, Int>
  ) async -> TraceEvent {
    let outcome: OpOutcome
    do {
      switch operation {
      case .next:
        outcome = (try await generator.next()).map(OpOutcome.value) ?? .stop
      case .send(let value):
        outcome = (try await generator.send(value)).map(OpOutcome.value) ?? .stop
      case .throwError(let error):
        outcome =
          (try await generator.throw(ScenarioError(error.rawValue))).map(OpOutcome.value) ?? .stop
      case .close:
        try await generator.close()
        outcome = .ok
      }
    } catch {
      outcome = .error(traceName(of: error))
    }
    return .op(index: index, op: operation.name, outcome: outcome, state: generator.state)
  }
}

/// How a block ended when it did not throw.
private enum Flow {
  case normal
  case returned
}

/// Executes statements inside a generator body, as the Python translation would.
private struct BodyInterpreter {
  let yield: AsyncGenerator<Int, Int>.Yield
  let log: TraceLog

  func run(_ block: [Statement]) async throws -> Flow {
    for statement in block {
      if try await execute(statement) == .returned { return .returned }
    }
    return .normal
  }

  private func execute(_ statement: Statement) async throws -> Flow {
    switch statement {
    case .yield(let value):
      let got = try await yield(value)
      log.append(.resumed(got))
    case .await:
      await Task.yield()
    case .log(let tag):
      log.append(.log(tag))
    case .raise(let error):
      throw ScenarioError(error.rawValue)
    case .return:
      return .returned
    case .repeat(let count, let body):
      for _ in 0..<count {
        if try await run(body) == .returned { return .returned }
      }
    case .try(let body, let handlers, let finally):
      return try await executeTry(body, handlers: handlers, finally: finally)
    }
    return .normal
  }

  /// `try`/`except`/`finally` with Python's rules: the first matching handler runs (and
  /// rethrows the caught error when `reraise` is set and its body did not return); the
  /// `finally` part runs on every path, may yield and await, and replaces the outcome when it
  /// throws or returns (a `return` there discards the error in flight).
  private func executeTry(
    _ body: [Statement], handlers: [Handler], finally: [Statement]?
  ) async throws -> Flow {
    var outcome: Result<Flow, any Error>
    do {
      outcome = .success(try await run(body))
    } catch {
      if let handler = handlers.first(where: { $0.match.matches(error) }) {
        log.append(.caught(traceName(of: error)))
        do {
          let flow = try await run(handler.body)
          outcome = flow == .normal && handler.reraise ? .failure(error) : .success(flow)
        } catch let handlerError {
          outcome = .failure(handlerError)
        }
      } else {
        outcome = .failure(error)
      }
    }
    if let finally {
      log.append(.finally)
      if try await run(finally) == .returned { return .returned }
    }
    return try outcome.get()
  }
}
