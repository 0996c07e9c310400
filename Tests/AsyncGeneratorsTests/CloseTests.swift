import AsyncGenerators
import Testing

/// CATALOGUE group ACLOSE and SPEC 3.5 (close).
@Suite("close")
struct CloseTests {
  @Test("AG-029: close awaits cleanup in the body; code after the try does not run")
  func closeAwaitsCleanup() async throws {
    try await withDeadline { () async throws in
      let log = EventLog()
      let g = AsyncGenerator<Int, Void> { yield in
        try await tryFinally {
          try await yield(1)
          throw ZeroDivisionError()
        } finally: {
          await Task.yield()
          await awaitOutsideCancellation()
          log.append("DONE += 1")
        }
        log.append("DONE += 1000")
      }
      #expect(try await g.next() == 1)
      try await g.close()
      #expect(log.events == ["DONE += 1"])
      #expect(g.state == .closed)
    }
  }

  @Test("AG-030: GeneratorExit is thrown at the suspended yield; the await after it never runs")
  func closeAtSuspendedYield() async throws {
    try await withDeadline { () async throws in
      let log = EventLog()
      let never = Gate()
      let g = AsyncGenerator<Int, Void> { yield in
        try await tryFinally {
          try await yield(1)
          await never.wait()
          log.append("DONE += 1000")
          try await yield(2)
        } finally: {
          await Task.yield()
          await Task.yield()
          log.append("DONE += 1")
        }
      }
      #expect(try await g.next() == 1)
      try await g.close()
      #expect(log.events == ["DONE += 1"])
      #expect(g.state == .closed)
    }
  }

  @Test("AG-031: cleanup that awaits a failing task and handles the error: close returns; closed")
  func cleanupAwaitsFailingTask() async throws {
    try await withDeadline { () async throws in
      let log = EventLog()
      let g = AsyncGenerator<Int, Void> { yield in
        let task = Task<Void, any Error> {
          await Task.yield()
          throw ZeroDivisionError()
        }
        try await tryFinally {
          try await yield(1)
        } finally: {
          do {
            try await task.value
          } catch is ZeroDivisionError {
            log.append("DONE = 1")
          }
        }
      }
      #expect(try await g.next() == 1)
      try await g.close()
      #expect(log.events == ["DONE = 1"])
      #expect(g.state == .closed)
      #expect(try await g.next() == nil)
    }
  }

  @Test("AG-032: a body that swallows GeneratorExit and returns closes successfully")
  func swallowThenReturn() async throws {
    try await withDeadline { () async throws in
      let log = EventLog()
      let g = swallowOnceThenEnd(log: log)
      #expect(try await g.next() == .some(nil))
      try await g.close()
      #expect(log.events == ["swallowed GeneratorExit", "DONE"])
      #expect(g.state == .closed)
    }
  }

  @Test(
    "AG-033, AG-035: yielding in cleanup during close throws ignoredGeneratorExit; next resumes there and GeneratorExit then escapes"
  )
  func yieldDuringClose() async throws {
    try await withDeadline { () async throws in
      let log = EventLog()
      let g = AsyncGenerator<Int, Void> { yield in
        try await tryFinally {
          try await yield(1)
          throw ZeroDivisionError()
        } finally: {
          await Task.yield()
          try await yield(12)
          log.append("finally done")
        }
      }
      #expect(try await g.next() == 1)
      await #expect(throws: AsyncGeneratorError.ignoredGeneratorExit) { try await g.close() }
      #expect(g.state == .suspended)
      #expect(log.events.isEmpty)
      // AG-035: the cleanup completes and rethrows the GeneratorExit it was handling.
      await #expect(throws: GeneratorExit()) { try await g.next() }
      #expect(log.events == ["finally done"])
      #expect(g.state == .closed)
      try await g.close()
    }
  }

  @Test("AG-034: swallowing GeneratorExit and yielding again: ignoredGeneratorExit; suspended")
  func swallowThenYield() async throws {
    try await withDeadline { () async throws in
      let log = EventLog()
      let g = AsyncGenerator<Int?, Void> { yield in
        do {
          try await yield(nil)
        } catch {}
        try await yield(nil)
        log.append("DONE += 1")
      }
      #expect(try await g.next() == .some(nil))
      await #expect(throws: AsyncGeneratorError.ignoredGeneratorExit) { try await g.close() }
      #expect(log.events.isEmpty)
      #expect(g.state == .suspended)
    }
  }

  @Test(
    "AG-036 (Swift: SPEC 3.5, no half-closed state): after ignoredGeneratorExit, next and send resume; a later close throws GeneratorExit at that yield again; throw enters the body"
  )
  func noHalfClosedState() async throws {
    try await withDeadline { () async throws in
      let log = EventLog()
      let g = AsyncGenerator<Int, Int> { yield in
        while true {
          do {
            try await yield(1)
          } catch is GeneratorExit {
            log.append("GeneratorExit")
          }
        }
      }
      #expect(try await g.next() == 1)
      await #expect(throws: AsyncGeneratorError.ignoredGeneratorExit) { try await g.close() }
      #expect(g.state == .suspended)
      #expect(try await g.next() == 1)
      #expect(try await g.send(5) == 1)
      #expect(g.state == .suspended)
      await #expect(throws: AsyncGeneratorError.ignoredGeneratorExit) { try await g.close() }
      #expect(log.events == ["GeneratorExit", "GeneratorExit"])
      #expect(g.state == .suspended)
      await #expect(throws: ValueError()) { try await g.throw(ValueError()) }
      #expect(g.state == .closed)
    }
  }

  @Test("AG-037: a body that rethrows the GeneratorExit it caught: close returns; closed")
  func rethrowGeneratorExit() async throws {
    try await withDeadline { () async throws in
      let seen = Locked<(any Error)?>(nil)
      let g = AsyncGenerator<Int, Void> { yield in
        do {
          try await yield(1)
        } catch let error as GeneratorExit {
          seen.set(error)
          throw error
        }
      }
      _ = try await g.next()
      try await g.close()
      #expect(seen.current as? GeneratorExit == GeneratorExit())
      #expect(g.state == .closed)
    }
  }

  @Test("AG-038: a body that catches GeneratorExit and returns: close returns; closed")
  func catchAndReturn() async throws {
    try await withDeadline { () async throws in
      let g = AsyncGenerator<Int, Void> { yield in
        do {
          try await yield(1)
        } catch is GeneratorExit {
          return
        }
      }
      _ = try await g.next()
      try await g.close()
      #expect(g.state == .closed)
    }
  }

  enum CleanupFailure: String, CaseIterable, Sendable {
    case finallyRaisesValueError
    case handlerRaisesKeyError
  }

  @Test(
    "AG-039: another error thrown during close is rethrown by close; closed; later calls are no-ops",
    arguments: CleanupFailure.allCases)
  func closeRethrowsOtherError(_ failure: CleanupFailure) async throws {
    try await withDeadline { () async throws in
      let g = AsyncGenerator<Int, Void> { yield in
        switch failure {
        case .finallyRaisesValueError:
          try await tryFinally {
            try await yield(1)
          } finally: {
            await Task.yield()
            throw ValueError(message: "in finally")
          }
        case .handlerRaisesKeyError:
          do {
            try await yield(1)
          } catch is GeneratorExit {
            throw KeyError(key: "other")
          }
        }
      }
      _ = try await g.next()
      let error = await #expect(throws: (any Error).self) { try await g.close() }
      switch failure {
      case .finallyRaisesValueError:
        #expect(error as? ValueError == ValueError(message: "in finally"))
      case .handlerRaisesKeyError: #expect(error as? KeyError == KeyError(key: "other"))
      }
      #expect(g.state == .closed)
      #expect(try await g.next() == nil)
      try await g.close()
    }
  }

  @Test("AG-041: closing a created generator twice: both return; closed")
  func closeFreshTwice() async throws {
    try await withDeadline { () async throws in
      let g = AsyncGenerator<Int, Void> { yield in try await yield(1) }
      try await g.close()
      try await g.close()
      #expect(g.state == .closed)
    }
  }

  @Test("AG-042: close after exhaustion is a no-op")
  func closeAfterExhaustion() async throws {
    try await withDeadline { () async throws in
      let g = AsyncGenerator<Int, Void> { yield in
        try await yield(1)
        try await yield(2)
      }
      for try await _ in g {}
      try await g.close()
      #expect(g.state == .closed)
    }
  }

  enum Response: String, CaseIterable, Sendable {
    case rethrowsGeneratorExit
    case throwsValueError
    case yieldsAgain
  }

  @Test(
    "AG-044 (Swift): close is decided by the body's response to GeneratorExit: rethrow -> returns, other error -> rethrown, yield -> ignoredGeneratorExit",
    arguments: Response.allCases)
  func closeDependsOnResponse(_ response: Response) async throws {
    try await withDeadline { () async throws in
      let g = AsyncGenerator<Int, Int> { yield in
        var last = 0
        while true {
          do {
            last = try await yield(last) ?? 0
          } catch let error as GeneratorExit {
            switch response {
            case .rethrowsGeneratorExit: throw error
            case .throwsValueError: throw ValueError()
            case .yieldsAgain: continue
            }
          }
        }
      }
      #expect(try await g.next() == 0)
      #expect(try await g.send(2) == 2)  // asend(2) returns 2 for the minimal class
      switch response {
      case .rethrowsGeneratorExit:
        try await g.close()
        #expect(g.state == .closed)
      case .throwsValueError:
        await #expect(throws: ValueError()) { try await g.close() }
        #expect(g.state == .closed)
      case .yieldsAgain:
        await #expect(throws: AsyncGeneratorError.ignoredGeneratorExit) { try await g.close() }
        #expect(g.state == .suspended)
        // End it: a body that swallows every GeneratorExit in a loop never ends by closing.
        await #expect(throws: KeyError()) { try await g.throw(KeyError()) }
      }
    }
  }

  /// The ways a generator becomes `closed` (CATALOGUE AG-043).
  enum ClosedBy: String, CaseIterable, Sendable {
    case exhaustion
    case closeAfterStart
    case closeWhileFresh
    case throwWhileFresh
    case escapedError
  }

  @Test(
    "AG-019, AG-026, AG-043, AG-050: whatever closed it, next/send return nil, throw returns nil, close is a no-op; the body never runs again",
    arguments: ClosedBy.allCases)
  func closedResponseTable(_ way: ClosedBy) async throws {
    try await withDeadline { () async throws in
      let log = EventLog()
      let g = AsyncGenerator<Int, Int> { yield in
        log.append("body")
        try await yield(1)
        if way == .escapedError { throw ValueError(message: "escaped") }
      }
      switch way {
      case .exhaustion:
        #expect(try await g.next() == 1)
        #expect(try await g.next() == nil)
      case .closeAfterStart:
        #expect(try await g.next() == 1)
        try await g.close()
      case .closeWhileFresh:
        try await g.close()
      case .throwWhileFresh:
        await #expect(throws: ValueError()) { try await g.throw(ValueError()) }
      case .escapedError:
        #expect(try await g.next() == 1)
        await #expect(throws: ValueError(message: "escaped")) { try await g.next() }
      }
      #expect(g.state == .closed)
      let ranBefore = log.events
      for _ in 0..<2 {
        #expect(try await g.next() == nil)
        #expect(try await g.send(5) == nil)
        #expect(try await g.throw(ValueError()) == nil)
        #expect(try await g.throw(GeneratorExit()) == nil)
        try await g.close()
      }
      #expect(log.events == ranBefore)
      #expect(g.state == .closed)
    }
  }

  @Test("SPEC 3.5: close waits for a cleanup that suspends until someone else releases it")
  func closeWaitsForSuspendedCleanup() async throws {
    try await withDeadline { () async throws in
      let log = EventLog()
      let inCleanup = Gate()
      let release = Gate()
      let g = AsyncGenerator<Int, Void> { yield in
        do {
          try await yield(1)
        } catch {
          inCleanup.open()
          await release.wait()
          log.append("cleanup done")
          throw error
        }
      }
      _ = try await g.next()
      let closer = Task {
        try await g.close()
        log.append("close returned")
      }
      await inCleanup.wait()
      #expect(g.state == .running)
      #expect(log.events.isEmpty)
      release.open()
      try await closer.value
      #expect(log.events == ["cleanup done", "close returned"])
      #expect(g.state == .closed)
    }
  }
}
