import AsyncGenerators
import Testing

/// CATALOGUE group FRESH and SPEC 3.1 (laziness).
@Suite("Fresh generators and laziness")
struct FreshTests {
  @Test("SPEC 3.1: creating a generator runs nothing; the body starts at the first next()")
  func creatingRunsNothing() async throws {
    try await withDeadline { () async throws in
      let log = EventLog()
      let g = AsyncGenerator<Int, Void> { yield in
        log.append("body start")
        try await yield(1)
      }
      await awaitOutsideCancellation()
      #expect(log.events.isEmpty)
      #expect(g.state == .created)
      #expect(try await g.next() == 1)
      #expect(log.events == ["body start"])
    }
  }

  @Test("SPEC 3.1: the body never runs ahead of its consumer: one element per request")
  func neverRunsAhead() async throws {
    try await withDeadline { () async throws in
      let log = EventLog()
      let g = AsyncGenerator<Int, Void> { yield in
        for i in 0..<100 {
          log.append("produce \(i)")
          try await yield(i)
        }
      }
      for i in 0..<3 {
        #expect(try await g.next() == i)
        #expect(g.state == .suspended)
        #expect(log.events == (0...i).map { "produce \($0)" })
      }
      // Parked: give it every chance to run ahead; it must not.
      for _ in 0..<10 { await awaitOutsideCancellation() }
      #expect(log.events.count == 3)
    }
  }

  @Test(
    "AG-071: throw on a created generator rethrows at once; no body code runs, not even cleanup; closed"
  )
  func throwOnFresh() async throws {
    try await withDeadline { () async throws in
      let log = EventLog()
      let g = AsyncGenerator<Int, Void> { yield in
        log.append("body-start")
        try await tryFinally {
          try await yield(1)
        } finally: {
          log.append("finally")
        }
      }
      await #expect(throws: ValueError(message: "boom")) {
        try await g.throw(ValueError(message: "boom"))
      }
      #expect(log.events.isEmpty)
      #expect(g.state == .closed)
      #expect(try await g.next() == nil)
      #expect(log.events.isEmpty)
    }
  }

  @Test("AG-072: throw(GeneratorExit()) on a created generator rethrows it; body not run; closed")
  func throwGeneratorExitOnFresh() async throws {
    try await withDeadline { () async throws in
      let log = EventLog()
      let g = AsyncGenerator<Int, Void> { yield in
        log.append("body-start")
        try await yield(1)
      }
      await #expect(throws: GeneratorExit()) { try await g.throw(GeneratorExit()) }
      #expect(log.events.isEmpty)
      #expect(g.state == .closed)
    }
  }

  @Test("AG-073: close on a created generator returns; the body and its cleanup never run")
  func closeOnFresh() async throws {
    try await withDeadline { () async throws in
      let log = EventLog()
      let g = AsyncGenerator<Int, Void> { yield in
        log.append("body-start")
        try await tryFinally {
          try await yield(1)
        } finally: {
          log.append("finally")
        }
      }
      try await g.close()
      #expect(log.events.isEmpty)
      #expect(g.state == .closed)
      #expect(try await g.next() == nil)
      #expect(log.events.isEmpty)
    }
  }

  @Test("AG-074: the first next() runs the body from the top to its first yield; suspended")
  func firstNext() async throws {
    try await withDeadline { () async throws in
      let log = EventLog()
      let g = AsyncGenerator<Int, Void> { yield in
        log.append("top")
        await Task.yield()
        log.append("before yield")
        try await yield(1)
        log.append("after yield")
      }
      #expect(try await g.next() == 1)
      #expect(log.events == ["top", "before yield"])
      #expect(g.state == .suspended)
    }
  }

  @Test("AG-016, SPEC 3.2: a rejected send before the start leaves the generator created")
  func sendBeforeStartThenNext() async throws {
    try await withDeadline { () async throws in
      let log = EventLog()
      let g = AsyncGenerator<Int, Int> { yield in
        log.append("start")
        let sent = try await yield(1)
        try await yield(sent ?? -1)
      }
      for _ in 0..<2 {
        await #expect(throws: AsyncGeneratorError.sendToJustStarted) { try await g.send(1) }
        #expect(g.state == .created)
      }
      #expect(log.events.isEmpty)
      #expect(try await g.next() == 1)
      #expect(try await g.send(42) == 42)
    }
  }
}
