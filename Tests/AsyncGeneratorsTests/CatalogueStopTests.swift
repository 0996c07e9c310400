import AsyncGenerators
import Testing

// Swift stand-ins for Python's end-of-iteration signals. In Swift they are ordinary errors:
// the end of a generator is `nil` from `next()`, never an error, so no error can be taken
// for the end. CPython converts these errors into `RuntimeError` when they escape the body;
// this library passes them through unchanged (DifferencesFromCPython.md, group STOP).

private struct StopAsyncIteration: Error, Equatable {}

private struct StopIteration: Error, Equatable {
  var value = 0
}

/// A class hierarchy, to stand in for a subclass of `StopAsyncIteration`.
private class StopAsyncIterationClass: Error, @unchecked Sendable {}

private final class StopAsyncIterationSubclass: StopAsyncIterationClass, @unchecked Sendable {}

/// A helper the body awaits that fails with an end-of-iteration-like error.
private func helperThatStops() async throws {
  await Task.yield()
  throw StopAsyncIteration()
}

/// CATALOGUE group STOP: end-of-iteration signals are data-free errors here; whatever escapes
/// the body is an error, never a silent end.
@Suite("Catalogue: end-of-iteration signals (STOP)")
struct CatalogueStopTests {
  @Test(
    "AG-055 (Swift: no RuntimeError conversion): an end-like error after a yield comes out of next() as an error, not as the end; closed"
  )
  func stopAsyncIterationAfterYield() async throws {
    try await withDeadline { () async throws in
      let log = EventLog()
      let g = AsyncGenerator<Int, Void> { yield in
        try await yield(123)
        try raise(StopAsyncIteration())
        log.append("after raise")
      }
      #expect(try await g.next() == 123)
      await #expect(throws: StopAsyncIteration()) { try await g.next() }
      #expect(log.events.isEmpty)
      #expect(g.state == .closed)
      #expect(try await g.next() == nil)
    }
  }

  @Test(
    "AG-056 (Swift: no RuntimeError conversion): a StopIteration-like error, with its value, propagates unchanged; closed"
  )
  func stopIterationAfterYield() async throws {
    try await withDeadline { () async throws in
      let g = AsyncGenerator<Int, Void> { yield in
        try await yield(123)
        try raise(StopIteration(value: 42))
      }
      #expect(try await g.next() == 123)
      await #expect(throws: StopIteration(value: 42)) { try await g.next() }
      #expect(g.state == .closed)
      #expect(try await g.next() == nil)
    }
  }

  @Test(
    "AG-057 (Swift: no RuntimeError conversion): an instance of a subclass propagates as that very instance"
  )
  func subclassPropagates() async throws {
    try await withDeadline { () async throws in
      let thrown = StopAsyncIterationSubclass()
      let g = AsyncGenerator<Int, Void> { yield in
        try await yield(1)
        throw thrown
      }
      #expect(try await g.next() == 1)
      let error = await #expect(throws: StopAsyncIterationClass.self) { try await g.next() }
      #expect(error === thrown)
      #expect(g.state == .closed)
    }
  }

  @Test(
    "AG-058 (Swift: no RuntimeError conversion): an end-like error from an awaited helper escapes the body as an error"
  )
  func fromAwaitedHelper() async throws {
    try await withDeadline { () async throws in
      let g = AsyncGenerator<Int, Void> { yield in
        try await yield(1)
        try await helperThatStops()
        try await yield(2)
      }
      var got: [Int] = []
      await #expect(throws: StopAsyncIteration()) {
        for try await x in g { got.append(x) }
      }
      #expect(got == [1])
      #expect(g.state == .closed)
    }
  }

  @Test(
    "AG-059 (Swift: no RuntimeError conversion): an end-like error before the first yield comes out of the first next(); closed"
  )
  func beforeFirstYield() async throws {
    try await withDeadline { () async throws in
      let g = AsyncGenerator<Int, Void> { yield in
        try raise(StopAsyncIteration())
        try await yield(1)
      }
      await #expect(throws: StopAsyncIteration()) { try await g.next() }
      #expect(g.state == .closed)
      #expect(try await g.next() == nil)
    }
  }

  @Test(
    "AG-060 (Swift: no RuntimeError conversion): throw() of an end-like error into a started body without a handler rethrows it; closed",
    arguments: [false, true])
  func throwEndLikeIntoStarted(stopIteration: Bool) async throws {
    try await withDeadline { () async throws in
      let log = EventLog()
      let g = AsyncGenerator<Int, Void> { yield in
        try await tryFinally {
          try await yield(1)
          log.append("after yield")
        } finally: {
          await Task.yield()
          log.append("finally")
        }
      }
      #expect(try await g.next() == 1)
      if stopIteration {
        await #expect(throws: StopIteration(value: 7)) {
          try await g.throw(StopIteration(value: 7))
        }
      } else {
        await #expect(throws: StopAsyncIteration()) { try await g.throw(StopAsyncIteration()) }
      }
      #expect(log.events == ["finally"])
      #expect(g.state == .closed)
      #expect(try await g.next() == nil)
    }
  }

  @Test(
    "AG-061: the end of an inner generator inside the body (nil, or an end-like error it caught) does not end the outer one"
  )
  func innerEndCaughtInBody() async throws {
    try await withDeadline { () async throws in
      let g = AsyncGenerator<String, Void> { yield in
        let empty = AsyncGenerator<String, Void> { _ in }
        if try await empty.next() == nil { try await yield("caught") }
        do {
          try await helperThatStops()
        } catch is StopAsyncIteration {
          try await yield("caught again")
        }
      }
      #expect(try await g.next() == "caught")
      #expect(try await g.next() == "caught again")
      #expect(try await g.next() == nil)
      #expect(g.state == .closed)
    }
  }

  @Test(
    "AG-062: throw() of an end-like error on a created generator rethrows it unchanged; the body never runs; closed"
  )
  func throwEndLikeIntoCreated() async throws {
    try await withDeadline { () async throws in
      let log = EventLog()
      let g = AsyncGenerator<Int, Void> { yield in
        log.append("body ran")
        try await yield(1)
      }
      await #expect(throws: StopAsyncIteration()) { try await g.throw(StopAsyncIteration()) }
      #expect(log.events.isEmpty)
      #expect(g.state == .closed)
      #expect(try await g.next() == nil)
      #expect(log.events.isEmpty)
    }
  }

  @Test(
    "AG-040 (Swift: no RuntimeError conversion): an end-like error thrown by cleanup during close() is rethrown by close, not taken as a clean close; closed"
  )
  func endLikeErrorFromCleanupDuringClose() async throws {
    try await withDeadline { () async throws in
      let g = AsyncGenerator<Int, Void> { yield in
        do {
          try await yield(1)
        } catch is GeneratorExit {
          await Task.yield()
          throw StopAsyncIteration()
        }
      }
      #expect(try await g.next() == 1)
      await #expect(throws: StopAsyncIteration()) { try await g.close() }
      #expect(g.state == .closed)
      #expect(try await g.next() == nil)
      await #expect(throws: Never.self) { try await g.close() }
    }
  }
}
