import AsyncGenerators
import Testing

/// Python's `anext(iterator, default)`: the next element, or `default` at the end. Only the
/// end is replaced; every error passes through.
private func anext<Iterator: AsyncIteratorProtocol>(
  _ iterator: inout Iterator, default: Iterator.Element
) async throws -> Iterator.Element {
  try await iterator.next() ?? `default`
}

/// `anext(generator, default)`.
private func anext<Element, Sent>(
  _ generator: AsyncGenerator<Element, Sent>, default: Element
) async throws -> Element {
  try await generator.next() ?? `default`
}

/// A hand-written async iterator (Python's class with `async def __anext__`): 1, 2, then the
/// end, every time after.
private struct CountingIterator: AsyncIteratorProtocol {
  var produced = 0

  mutating func next() async throws -> String? {
    await Task.yield()
    guard produced < 2 else { return nil }
    produced += 1
    return "\(produced)"
  }
}

private struct CountingSequence: AsyncSequence {
  func makeAsyncIterator() -> CountingIterator { CountingIterator() }
}

/// An iterator whose step fails (Python's `__anext__` awaitable raising ZeroDivisionError).
private struct FailingIterator: AsyncIteratorProtocol {
  mutating func next() async throws -> String? {
    throw ZeroDivisionError()
  }
}

/// `_check_async_iterator_anext`'s consumer: two `anext` without a default, then one with.
private func consume<Iterator: AsyncIteratorProtocol>(
  _ iterator: inout Iterator
) async throws -> [String?] where Iterator.Element == String {
  [
    try await iterator.next(),
    try await iterator.next(),
    try await anext(&iterator, default: "buckle my shoe"),
  ]
}

private func oneTwo() -> AsyncGenerator<String, Void> {
  AsyncGenerator { yield in
    await Task.yield()
    try await yield("1")
    await Task.yield()
    try await yield("2")
  }
}

/// CATALOGUE group ANEXT: Python's `anext(it, default)` is `try await it.next() ?? default`
/// here; these check that the library's end (`nil`) and errors keep those two apart.
@Suite("Catalogue: anext with a default (ANEXT)")
struct CatalogueAnextTests {
  @Test(
    "AG-128: next, next, anext with a default at the end; a second run on the exhausted generator ends at once"
  )
  func defaultAtTheEnd() async throws {
    try await withDeadline { () async throws in
      let g = oneTwo()
      var iterator = g.makeAsyncIterator()
      #expect(try await consume(&iterator) == ["1", "2", "buckle my shoe"])
      // Python's first anext(g) without a default raises StopAsyncIteration: nil here.
      #expect(try await g.next() == nil)
      var again = g.makeAsyncIterator()
      #expect(try await again.next() == nil)
      #expect(g.state == .closed)
    }
  }

  @Test("AG-129: after the end, next() returns nil and anext returns the default, every time")
  func repeatedEnd() async throws {
    try await withDeadline { () async throws in
      let g1 = oneTwo()
      var plain: [String?] = []
      for _ in 0..<4 { plain.append(try await g1.next()) }
      #expect(plain == ["1", "2", nil, nil])

      let g2 = oneTwo()
      var withDefault: [String] = []
      for _ in 0..<4 { withDefault.append(try await anext(g2, default: "default")) }
      #expect(withDefault == ["1", "2", "default", "default"])
    }
  }

  @Test(
    "AG-130: the default replaces only the end: an error from the step, the body or alreadyRunning passes through; once closed, the default is returned"
  )
  func defaultDoesNotReplaceErrors() async throws {
    try await withDeadline { () async throws in
      var failing = FailingIterator()
      await #expect(throws: ZeroDivisionError()) { try await anext(&failing, default: "d") }

      let g = AsyncGenerator<String, Void> { yield in
        try await yield("1")
        throw ValueError(message: "boom")
      }
      #expect(try await anext(g, default: "d") == "1")
      await #expect(throws: ValueError(message: "boom")) { try await anext(g, default: "d") }
      #expect(g.state == .closed)
      #expect(try await anext(g, default: "d") == "d")

      // An error thrown in and not handled (Python: athrow(MyError('val'))).
      let h = oneTwo()
      #expect(try await anext(h, default: "d") == "1")
      await #expect(throws: MyError()) { try await h.throw(MyError()) }
      #expect(try await anext(h, default: "d") == "d")

      // A call rejected as alreadyRunning is not the end either (CATALOGUE AG-069).
      let awaiting = Gate()
      let release = Gate()
      let busy = AsyncGenerator<String, Void> { yield in
        awaiting.open()
        await release.wait()
        try await yield("1")
      }
      let first = Task { try await busy.next() }
      await awaiting.wait()
      await #expect(throws: AsyncGeneratorError.alreadyRunning) {
        try await anext(busy, default: "D")
      }
      release.open()
      #expect(try await first.value == "1")
    }
  }

  @Test(
    "AG-131 (Swift: the error injected at the body's await is the forwarded cancellation): the body handles it and returns; anext completes with the default; closed",
    arguments: [false, true])
  func injectedErrorHandledThenReturn(handlerAwaits: Bool) async throws {
    try await withDeadline { () async throws in
      let log = EventLog()
      let awaiting = Gate()
      let g = AsyncGenerator<String, Void> { yield in
        try await yield("0")
        do {
          awaiting.open()
          try await Task.sleep(for: .seconds(60))
          log.append("sleep finished")
        } catch is CancellationError {
          if handlerAwaits { await awaitOutsideCancellation() }
          log.append("handled")
        }
      }
      #expect(try await g.next() == "0")
      let consumer = Task { try await anext(g, default: "default") }
      await awaiting.wait()
      consumer.cancel()
      #expect(try await consumer.value == "default")
      #expect(log.events == ["handled"])
      #expect(g.state == .closed)
    }
  }

  @Test(
    "AG-132: anext and its default work alike on a hand-written async iterator and on a generator"
  )
  func anyAsyncIterator() async throws {
    try await withDeadline { () async throws in
      var handWritten = CountingSequence().makeAsyncIterator()
      var generator = oneTwo().makeAsyncIterator()
      let fromHandWritten = try await consume(&handWritten)
      let fromGenerator = try await consume(&generator)
      #expect(fromHandWritten == ["1", "2", "buckle my shoe"])
      #expect(fromGenerator == fromHandWritten)
      #expect(try await handWritten.next() == nil)
      #expect(try await generator.next() == nil)
    }
  }

  @Test(
    "AG-133: a default is returned as it is: a tuple, nil or an array, at the end and for a generator that never yields"
  )
  func defaultReturnedAsIs() async throws {
    try await withDeadline { () async throws in
      let pairs = AsyncGenerator<(String, String), Void> { yield in try await yield(("x", "y")) }
      let first = try await anext(pairs, default: ("a", "b"))
      #expect(first == ("x", "y"))
      let atEnd = try await anext(pairs, default: ("a", "b"))
      #expect(atEnd == ("a", "b"))

      let neverYields = AsyncGenerator<(String, String), Void> { _ in await Task.yield() }
      let fromEmpty = try await anext(neverYields, default: ("a", "b"))
      #expect(fromEmpty == ("a", "b"))

      let optionals = AsyncGenerator<Int?, Void> { _ in }
      #expect(try await anext(optionals, default: nil) == .none)

      let arrays = AsyncGenerator<[String], Void> { _ in }
      #expect(try await anext(arrays, default: ["a", "b"]) == ["a", "b"])
    }
  }
}
