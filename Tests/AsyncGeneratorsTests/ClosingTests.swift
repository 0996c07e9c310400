import AsyncGenerators
import Testing

/// CATALOGUE group ACLOSING and SPEC 3.8 (`closing {}`, Python's `contextlib.aclosing`).
@Suite("closing")
struct ClosingTests {
  @Test(
    "AG-121: closing hands over the generator itself and closes it once when the closure returns; its result is returned"
  )
  func closingNormalExit() async throws {
    try await withDeadline { () async throws in
      let log = EventLog()
      let g = AsyncGenerator<Int, Void> { yield in
        try await tryFinally {
          for i in 0..<10 { try await yield(i) }
        } finally: {
          log.append("closed")
        }
      }
      let result = try await g.closing { y in
        #expect(y === g)
        return try await y.next()
      }
      #expect(result == 0)
      #expect(log.events == ["closed"])
      #expect(g.state == .closed)
    }
  }

  @Test("AG-122: when the closure throws, the generator is still closed and the error propagates")
  func closingErrorExit() async throws {
    try await withDeadline { () async throws in
      let log = EventLog()
      let g = AsyncGenerator<Int, Void> { yield in
        do {
          try await yield(1)
        } catch {
          log.append("cleanup \(type(of: error))")
          throw error
        }
      }
      await #expect(throws: ZeroDivisionError()) {
        try await g.closing { g in
          _ = try await g.next()
          throw ZeroDivisionError()
        }
      }
      #expect(log.events == ["cleanup GeneratorExit"])
      #expect(g.state == .closed)
    }
  }

  @Test(
    "AG-123: a synchronous cleanup (defer) around the yields runs when the closure throws; closed")
  func closingRunsSyncCleanup() async throws {
    try await withDeadline { () async throws in
      let log = EventLog()
      let g = AsyncGenerator<Int, Void> { yield in
        defer { log.append("exit") }
        try await yield(-1)
        try await yield(-2)
      }
      await #expect(throws: ZeroDivisionError()) {
        try await g.closing { g in
          #expect(try await g.next() == -1)
          throw ZeroDivisionError()
        }
      }
      #expect(log.events == ["exit"])
      #expect(g.state == .closed)
    }
  }

  @Test("AG-124, SPEC 3.8: when both the closure and the close throw, the close's error wins")
  func closeErrorWins() async throws {
    try await withDeadline { () async throws in
      let g = AsyncGenerator<Int, Void> { yield in
        try await tryFinally {
          try await yield(1)
        } finally: {
          throw KeyError(key: "from finally")
        }
      }
      await #expect(throws: KeyError(key: "from finally")) {
        try await g.closing { g in
          _ = try await g.next()
          throw ValueError()
        }
      }
      #expect(g.state == .closed)
    }
  }

  @Test("AG-125, SPEC 3.8: break inside closing {} closes the generator on the way out")
  func breakInsideClosing() async throws {
    try await withDeadline { () async throws in
      let log = EventLog()
      let g = AsyncGenerator<Int, Void> { yield in
        try await tryFinally {
          for i in 0..<10 { try await yield(i) }
        } finally: {
          await Task.yield()
          log.append("cleanup")
        }
      }
      try await g.closing { g in
        for try await _ in g { break }
        #expect(g.state == .suspended)
        #expect(log.events.isEmpty)
      }
      #expect(log.events == ["cleanup"])
      #expect(g.state == .closed)
    }
  }

  @Test(
    "AG-126: GeneratorExit passes through an async resource scope inside the body unchanged; close returns"
  )
  func generatorExitThroughResourceScope() async throws {
    try await withDeadline { () async throws in
      let log = EventLog()
      /// An `@asynccontextmanager`-like helper: async setup and teardown around `body`.
      @Sendable func withResource(
        _ body: () async throws -> Void
      ) async throws {
        await Task.yield()
        log.append("enter")
        do {
          try await body()
        } catch {
          await Task.yield()
          log.append("exit with \(type(of: error))")
          throw error
        }
        log.append("exit")
      }
      let g = AsyncGenerator<Int, Void> { yield in
        try await withResource {
          try await yield(11)
        }
      }
      for try await x in g {
        #expect(x == 11)
        break
      }
      try await g.close()
      #expect(log.events == ["enter", "exit with GeneratorExit"])
      #expect(g.state == .closed)
    }
  }

  @Test("SPEC 3.8: closing {} on a generator the closure exhausted is a plain return")
  func closingAfterExhaustion() async throws {
    try await withDeadline { () async throws in
      let g = AsyncGenerator<Int, Void> { yield in
        try await yield(1)
        try await yield(2)
      }
      let all = try await g.closing { g in
        var all: [Int] = []
        for try await x in g { all.append(x) }
        return all
      }
      #expect(all == [1, 2])
      #expect(g.state == .closed)
    }
  }

  @Test("SPEC 3.8: a close error after a normal exit is thrown by closing {}")
  func closeErrorAfterNormalExit() async throws {
    try await withDeadline { () async throws in
      let g = AsyncGenerator<Int, Void> { yield in
        do {
          try await yield(1)
        } catch {
          try await yield(2)
        }
      }
      await #expect(throws: AsyncGeneratorError.ignoredGeneratorExit) {
        try await g.closing { g in try await g.next() }
      }
      #expect(g.state == .suspended)
    }
  }

  @Test(
    "SPEC 3.9: closing {} in a task cancelled while its closure ran does not cancel the cleanup"
  )
  func closingInCancelledTask() async throws {
    try await withDeadline { () async throws in
      let log = EventLog()
      let gotFirst = Gate()
      let cancelled = Gate()
      let g = AsyncGenerator<Int, Void> { yield in
        do {
          try await yield(1)
        } catch {
          log.append("cleanup cancelled=\(Task.isCancelled)")
          try await Task.sleep(for: .milliseconds(1))
          log.append("slept")
          throw error
        }
      }
      let consumer = Task {
        try await g.closing { g in
          _ = try await g.next()
          gotFirst.open()
          await cancelled.wait()
        }
      }
      await gotFirst.wait()
      consumer.cancel()
      cancelled.open()
      try await consumer.value
      #expect(log.events == ["cleanup cancelled=false", "slept"])
      #expect(g.state == .closed)
    }
  }

  @Test("SPEC 2: a closing {} closure may capture non-Sendable state of a @MainActor caller")
  func closingCapturesNonSendableState() async throws {
    try await withDeadline { @MainActor () async throws in
      let tally = Tally()
      let g = AsyncGenerator<Int, Void> { yield in
        for i in 0..<3 { try await yield(i) }
      }
      try await g.closing { g in
        for try await x in g { tally.values.append(x) }
      }
      #expect(tally.values == [0, 1, 2])
      #expect(g.state == .closed)
    }
  }
}

/// Non-Sendable state of a caller.
private final class Tally {
  var values: [Int] = []
}
