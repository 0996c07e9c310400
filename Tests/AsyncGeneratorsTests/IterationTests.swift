import AsyncGenerators
import Testing

/// CATALOGUE group ITER and SPEC 3.8 (AsyncSequence).
@Suite("Iteration")
struct IterationTests {
  @Test(
    "AG-001: awaits between yields; next() makes each yield return nil; for-await drains in order")
  func iterationWithAwaits() async throws {
    try await withDeadline { () async throws in
      let log = EventLog()
      let g = AsyncGenerator<Int, Int> { yield in
        await Task.yield()
        let a = try await yield(123)
        log.append("a=\(String(describing: a))")
        await Task.yield()
        let b = try await yield(456)
        log.append("b=\(String(describing: b))")
        await Task.yield()
        let c = try await yield(789)
        log.append("c=\(String(describing: c))")
      }
      var got: [Int] = []
      for try await x in g { got.append(x) }
      #expect(got == [123, 456, 789])
      #expect(log.events == ["a=nil", "b=nil", "c=nil"])
      #expect(g.state == .closed)
    }
  }

  @Test("AG-002: next() suspends while the body awaits and completes only when it yields")
  func nextWaitsForTheYield() async throws {
    try await withDeadline { () async throws in
      let log = EventLog()
      let awaiting = Gate()
      let release = Gate()
      let g = AsyncGenerator<Int, Void> { yield in
        awaiting.open()
        await release.wait()
        log.append("body yields")
        try await yield(123)
      }
      let consumer = Task {
        let element = try await g.next()
        log.append("next returned")
        return element
      }
      await awaiting.wait()
      #expect(g.state == .running)
      #expect(log.events.isEmpty)
      release.open()
      #expect(try await consumer.value == 123)
      #expect(log.events == ["body yields", "next returned"])
      #expect(g.state == .suspended)
    }
  }

  @Test("AG-003: the next() after the last yield runs the trailing await, then returns nil")
  func trailingAwaitThenEnd() async throws {
    try await withDeadline { () async throws in
      let log = EventLog()
      let g = AsyncGenerator<Int, Void> { yield in
        try await yield(123)
        await awaitOutsideCancellation()
        log.append("trailing await done")
      }
      #expect(try await g.next() == 123)
      #expect(log.events.isEmpty)
      #expect(try await g.next() == nil)
      #expect(log.events == ["trailing await done"])
      #expect(g.state == .closed)
    }
  }

  @Test("AG-004: after the end every next() returns nil and the body never restarts")
  func exhaustedStaysExhausted() async throws {
    try await withDeadline { () async throws in
      let log = EventLog()
      let g = AsyncGenerator<Int, Void> { yield in
        log.append("start")
        for i in 1...4 {
          await Task.yield()
          try await yield(i)
        }
      }
      var got: [Int?] = []
      for _ in 0..<6 { got.append(try await g.next()) }
      #expect(got == [1, 2, 3, 4, nil, nil])
      #expect(log.events == ["start"])
      #expect(g.state == .closed)
    }
  }

  @Test(
    "AG-005, AG-006: a bare return ends iteration like falling off the end; the end carries no value"
  )
  func bareReturn() async throws {
    try await withDeadline { () async throws in
      let log = EventLog()
      // AG-006: the body's type is `(Yield) async throws -> Void`: a value-returning
      // `return` does not compile, so the end has no payload channel.
      @Sendable func body(returnEarly: Bool, yield: AsyncGenerator<Int, Void>.Yield) async throws {
        try await yield(1)
        await Task.yield()
        try await yield(2)
        await Task.yield()
        if returnEarly { return }
        log.append("after return")
        try await yield(3)
      }
      let g = AsyncGenerator<Int, Void> { yield in try await body(returnEarly: true, yield: yield) }
      var got: [Int] = []
      for try await x in g { got.append(x) }
      #expect(got == [1, 2])
      #expect(log.events.isEmpty)
      #expect(g.state == .closed)
    }
  }

  @Test(
    "AG-008: every iterator shares the generator's position; a later loop continues where one broke off"
  )
  func iteratorsShareState() async throws {
    try await withDeadline { () async throws in
      let g = AsyncGenerator<Int, Void> { yield in
        for i in 1...3 { try await yield(i) }
      }
      var first: [Int] = []
      for try await x in g {
        first.append(x)
        break
      }
      var second: [Int] = []
      for try await x in g { second.append(x) }
      var third: [Int] = []
      for try await x in g { third.append(x) }
      #expect(first == [1])
      #expect(second == [2, 3])
      #expect(third == [])
      var iterator = g.makeAsyncIterator()
      #expect(try await iterator.next() == nil)
      #expect(try await g.next() == nil)
    }
  }

  @Test("AG-009: breaking out of for-await does not close: suspended, cleanup not run")
  func breakDoesNotClose() async throws {
    try await withDeadline { () async throws in
      let log = EventLog()
      let g = AsyncGenerator<Int, Void> { yield in
        try await tryFinally {
          for i in 0..<10 { try await yield(i) }
        } finally: {
          log.append("finally")
        }
      }
      for try await _ in g { break }
      #expect(g.state == .suspended)
      #expect(log.events.isEmpty)
      try await g.close()
      #expect(log.events == ["finally"])
      #expect(g.state == .closed)
    }
  }

  @Test("AG-010: yielded nil Optionals and Error values are data, not end or failure")
  func controlLookingValuesAreData() async throws {
    try await withDeadline { () async throws in
      let optionals = AsyncGenerator<Int?, Void> { yield in
        try await yield(nil)
        try await yield(1)
        try await yield(nil)
      }
      #expect(try await optionals.next() == .some(nil))
      #expect(try await optionals.next() == .some(1))
      #expect(try await optionals.next() == .some(nil))
      #expect(try await optionals.next() == nil)

      let errors = AsyncGenerator<any Error, Void> { yield in
        try await yield(GeneratorExit())
        try await yield(CancellationError())
        do {
          try await yield(AsyncGeneratorError.ignoredGeneratorExit)
        } catch is ValueError {
          try await yield(ValueError(message: "as a value"))
        }
      }
      #expect(try await errors.next() is GeneratorExit)
      #expect(try await errors.next() is CancellationError)
      let third = try await errors.next()
      #expect(third as? AsyncGeneratorError == .ignoredGeneratorExit)
      // Through throw(_:) as well (test_async_gen_asyncio_athrow_tuple and _stopiteration).
      let fromThrow = try await errors.throw(ValueError())
      #expect(fromThrow as? ValueError == ValueError(message: "as a value"))
      #expect(try await errors.next() == nil)
    }
  }

  @Test("AG-011: collecting a generator with for-await gives every element, then it is closed")
  func collect() async throws {
    try await withDeadline { () async throws in
      let g = AsyncGenerator<Int, Void> { yield in
        try await yield(1)
        try await yield(2)
      }
      var got: [Int] = []
      for try await x in g { got.append(x) }
      #expect(got == [1, 2])
      #expect(g.state == .closed)
    }
  }

  @Test("SPEC 3.8: for-await calls next(): elements interleave with direct next() calls")
  func forAwaitCallsNext() async throws {
    try await withDeadline { () async throws in
      let g = AsyncGenerator<Int, Void> { yield in
        for i in 0..<6 { try await yield(i) }
      }
      var got: [Int] = []
      for try await x in g {
        got.append(x)
        if let extra = try await g.next() { got.append(-extra) }
      }
      #expect(got == [0, -1, 2, -3, 4, -5])
    }
  }
}
