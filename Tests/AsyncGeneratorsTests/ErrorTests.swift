import AsyncGenerators
import Testing

/// CATALOGUE group ERR and SPEC 3.3 (errors from the body).
@Suite("Errors from the body")
struct ErrorTests {
  @Test("AG-046: an error after a yield is the very error the body threw, after its cleanup")
  func errorAfterYield() async throws {
    try await withDeadline { () async throws in
      let log = EventLog()
      let thrown = UniqueError()
      let g = AsyncGenerator<Int, Void> { yield in
        try await tryFinally {
          await Task.yield()
          try await yield(123)
          throw thrown
        } finally: {
          log.append("finally")
        }
      }
      #expect(try await g.next() == 123)
      let error = await #expect(throws: UniqueError.self) { try await g.next() }
      #expect(error == thrown)
      #expect(error != UniqueError())
      #expect(log.events == ["finally"])
      #expect(g.state == .closed)
    }
  }

  @Test("AG-047: a failing await in the body propagates out of for-await unchanged")
  func failingAwait() async throws {
    try await withDeadline { () async throws in
      @Sendable func operation() async throws {
        await Task.yield()
        throw AwaitError()
      }
      let g = AsyncGenerator<Int, Void> { yield in
        try await yield(123)
        try await operation()
      }
      var got: [Int] = []
      await #expect(throws: AwaitError()) {
        for try await x in g { got.append(x) }
      }
      #expect(got == [123])
      #expect(g.state == .closed)
    }
  }

  @Test("AG-048: for-await sees 1, 2, then the error; the yield after it never runs")
  func errorStopsForAwait() async throws {
    try await withDeadline { () async throws in
      let log = EventLog()
      let g = AsyncGenerator<Int, Void> { yield in
        try await yield(1)
        await Task.yield()
        try await yield(2)
        try raise(ZeroDivisionError())
        log.append("yield 3")
        try await yield(3)
      }
      let got = Locked<[Int]>([])
      await #expect(throws: ZeroDivisionError()) {
        for try await x in g { got.withLock { $0.append(x) } }
      }
      #expect(got.current == [1, 2])
      #expect(log.events.isEmpty)
      #expect(g.state == .closed)
    }
  }

  @Test("AG-049: an error before the first yield comes out of the first next(); closed")
  func errorBeforeFirstYield() async throws {
    try await withDeadline { () async throws in
      let g = AsyncGenerator<Int, Void> { _ in
        throw ValueError(message: "early")
      }
      await #expect(throws: ValueError(message: "early")) { try await g.next() }
      #expect(g.state == .closed)
    }
  }

  @Test("AG-050, SPEC 3.3: the error is delivered exactly once; later next/send return nil")
  func errorDeliveredOnce() async throws {
    try await withDeadline { () async throws in
      let g = AsyncGenerator<Int, Int> { yield in
        try await yield(1)
        throw ValueError(message: "once")
      }
      _ = try await g.next()
      await #expect(throws: ValueError(message: "once")) { try await g.send(3) }
      #expect(try await g.next() == nil)
      #expect(try await g.send(4) == nil)
      try await g.close()
      #expect(try await g.throw(ValueError()) == nil)
      #expect(try await g.throw(GeneratorExit()) == nil)
      #expect(try await g.next() == nil)
    }
  }

  @Test(
    "AG-013, AG-051: yielding in cleanup while an error unwinds is legal; the error follows: [1, 2, 3, ZeroDivisionError, STOP]",
    arguments: [false, true])
  func yieldWhileUnwinding(withAwaits: Bool) async throws {
    try await withDeadline { () async throws in
      let g = AsyncGenerator<Int, Void> { yield in
        try await tryFinally {
          if withAwaits { await Task.yield() }
          try await yield(1)
          if withAwaits { await Task.yield() }
          throw ZeroDivisionError()
        } finally: {
          if withAwaits { await Task.yield() }
          try await yield(2)
          if withAwaits { await Task.yield() }
          try await yield(3)
        }
        try await yield(100)
      }
      #expect(await record(g) == ["1", "2", "3", "ZeroDivisionError", "STOP"])
    }
  }

  @Test(
    "AG-013, AG-052: an error raised in cleanup after a yield ends it: [1, 2, ZeroDivisionError, STOP]"
  )
  func errorInCleanupAfterYield() async throws {
    try await withDeadline { () async throws in
      let g = AsyncGenerator<Int, Void> { yield in
        try await tryFinally {
          try await yield(1)
          await Task.yield()
        } finally: {
          await Task.yield()
          try await yield(2)
          try raise(ZeroDivisionError())
          try await yield(3)
        }
        try await yield(100)
      }
      #expect(await record(g) == ["1", "2", "ZeroDivisionError", "STOP"])
    }
  }

  @Test("AG-053: an error thrown in cleanup replaces the one unwinding")
  func cleanupErrorWins() async throws {
    try await withDeadline { () async throws in
      let g = AsyncGenerator<Int, Void> { yield in
        try await tryFinally {
          try await yield(1)
          throw ValueError(message: "orig")
        } finally: {
          throw TypeError(message: "from finally")
        }
      }
      _ = try await g.next()
      await #expect(throws: TypeError(message: "from finally")) { try await g.next() }
      #expect(g.state == .closed)
    }
  }

  @Test(
    "AG-054 (Swift: every Error propagates alike): a KeyboardInterrupt-like error passes out unchanged"
  )
  func anyErrorPropagates() async throws {
    try await withDeadline { () async throws in
      let g = AsyncGenerator<Int, Void> { yield in
        try await yield(1)
        throw KeyboardInterrupt()
      }
      _ = try await g.next()
      await #expect(throws: KeyboardInterrupt()) { try await g.next() }
      #expect(g.state == .closed)
    }
  }

  @Test("SPEC 3.3: a CancellationError the body throws itself is an ordinary error; closed")
  func bodyThrowsCancellationError() async throws {
    try await withDeadline { () async throws in
      let g = AsyncGenerator<Int, Void> { yield in
        try await yield(1)
        throw CancellationError()
      }
      _ = try await g.next()
      await #expect(throws: CancellationError.self) { try await g.next() }
      #expect(g.state == .closed)
      #expect(try await g.next() == nil)
    }
  }
}
