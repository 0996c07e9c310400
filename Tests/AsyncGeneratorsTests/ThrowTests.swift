import AsyncGenerators
import Testing

/// CATALOGUE group ATHROW and SPEC 3.4 (throw).
@Suite("throw")
struct ThrowTests {
  @Test("AG-021: throw returns the element yielded after the handler ran, await included")
  func throwCaughtThenYield() async throws {
    try await withDeadline { () async throws in
      let log = EventLog()
      let g = AsyncGenerator<Int, Int> { yield in
        try await tryFinally {
          let v: Int
          do {
            v = try await yield(1) ?? 0
          } catch is FooError {
            v = 1000
            await awaitOutsideCancellation()
          }
          try await yield(v * 2)
          await Task.yield()
        } finally: {
          await Task.yield()
          await Task.yield()
          log.append("DONE")
        }
      }
      #expect(try await g.next() == 1)
      #expect(try await g.throw(FooError()) == 2000)
      #expect(log.events.isEmpty)
      #expect(try await g.next() == nil)
      #expect(log.events == ["DONE"])
      #expect(g.state == .closed)
    }
  }

  @Test("AG-022: when the body swallows the error and returns, throw returns nil")
  func throwSwallowedThenReturn() async throws {
    try await withDeadline { () async throws in
      let log = EventLog()
      let g = swallowOnceThenEnd(log: log)
      #expect(try await g.next() == .some(nil))
      #expect(try await g.throw(ValueError()) == nil)
      #expect(log.events == ["swallowed ValueError", "DONE"])
      #expect(g.state == .closed)
    }
  }

  @Test("AG-023: an unhandled thrown error propagates unchanged after the cleanup; closed")
  func throwUnhandled() async throws {
    try await withDeadline { () async throws in
      let log = EventLog()
      let g = AsyncGenerator<Int, Void> { yield in
        try await tryFinally {
          try await yield(1)
          log.append("not reached")
        } finally: {
          await Task.yield()
          log.append("finally")
        }
      }
      #expect(try await g.next() == 1)
      let thrown = UniqueError()
      await #expect(throws: thrown) { try await g.throw(thrown) }
      #expect(log.events == ["finally"])
      #expect(g.state == .closed)
      #expect(try await g.next() == nil)

      let h = AsyncGenerator<Int, Void> { yield in try await yield(1) }
      _ = try await h.next()
      await #expect(throws: KeyError(key: "k")) { try await h.throw(KeyError(key: "k")) }
      #expect(h.state == .closed)
    }
  }

  @Test(
    "AG-013, AG-024: an uncaught GeneratorExit from throw(GeneratorExit()) reaches the awaiter; outer records [1, 2, 3, STOP]"
  )
  func throwGeneratorExitPropagates() async throws {
    try await withDeadline { () async throws in
      let inner = AsyncGenerator<Int, Void> { yield in
        try await yield(10)
        try await yield(20)
      }
      let outer = AsyncGenerator<Int, Void> { yield in
        try await yield(1)
        _ = try await inner.next()
        do {
          _ = try await inner.throw(GeneratorExit())
        } catch is GeneratorExit {
          try await yield(2)
        }
        try await yield(3)
      }
      #expect(await record(outer) == ["1", "2", "3", "STOP"])
      #expect(inner.state == .closed)
    }
  }

  @Test(
    "AG-025: throw(GeneratorExit()) returns the element yielded in response; close() would fail instead"
  )
  func throwGeneratorExitIsNotClose() async throws {
    try await withDeadline { () async throws in
      @Sendable func body(_ yield: AsyncGenerator<String, Void>.Yield) async throws {
        do {
          try await yield("1")
        } catch is GeneratorExit {
          try await yield("caught GE")
        }
      }
      let thrown = AsyncGenerator<String, Void>(body)
      #expect(try await thrown.next() == "1")
      #expect(try await thrown.throw(GeneratorExit()) == "caught GE")
      #expect(thrown.state == .suspended)

      let closed = AsyncGenerator<String, Void>(body)
      #expect(try await closed.next() == "1")
      await #expect(throws: AsyncGeneratorError.ignoredGeneratorExit) { try await closed.close() }
      #expect(closed.state == .suspended)
    }
  }

  @Test("SPEC 3.4: another error escaping the handler is rethrown by throw; closed")
  func throwReplacedByAnotherError() async throws {
    try await withDeadline { () async throws in
      let g = AsyncGenerator<Int, Void> { yield in
        do {
          try await yield(1)
        } catch is FooError {
          await Task.yield()
          throw TypeError(message: "from handler")
        }
      }
      _ = try await g.next()
      await #expect(throws: TypeError(message: "from handler")) { try await g.throw(FooError()) }
      #expect(g.state == .closed)
      #expect(try await g.next() == nil)
    }
  }
}
