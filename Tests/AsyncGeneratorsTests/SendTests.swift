import AsyncGenerators
import Testing

/// CATALOGUE group ASEND and SPEC 3.2 (next / send).
@Suite("send")
struct SendTests {
  @Test("AG-014: a sent value becomes the yield's result; the last call runs the awaiting cleanup")
  func sendValue() async throws {
    try await withDeadline { () async throws in
      let log = EventLog()
      let g = AsyncGenerator<Int, Int> { yield in
        try await tryFinally {
          await Task.yield()
          let v = try await yield(1)
          await Task.yield()
          try await yield((v ?? 0) * 2)
          await Task.yield()
        } finally: {
          await Task.yield()
          await awaitOutsideCancellation()
          log.append("DONE")
        }
      }
      #expect(try await g.next() == 1)
      #expect(try await g.send(100) == 200)
      #expect(try await g.next() == nil)
      #expect(log.events == ["DONE"])
      #expect(g.state == .closed)
    }
  }

  @Test("AG-015: send and next interleave: 1, 10, 1200, then nil")
  func sendSequence() async throws {
    try await withDeadline { () async throws in
      let g = AsyncGenerator<Int, Int> { yield in
        var v = try await yield(1)
        v = try await yield(v ?? -1)
        try await yield((v ?? -1) * 100)
      }
      #expect(try await g.next() == 1)
      #expect(try await g.send(10) == 10)
      #expect(try await g.send(12) == 1200)
      #expect(try await g.next() == nil)
    }
  }

  @Test(
    "AG-016: send on a created generator throws sendToJustStarted, runs nothing, leaves it usable"
  )
  func sendToJustStarted() async throws {
    try await withDeadline { () async throws in
      let log = EventLog()
      let g = AsyncGenerator<Int, Int> { yield in
        log.append("body start")
        try await yield(1)
      }
      await #expect(throws: AsyncGeneratorError.sendToJustStarted) {
        try await g.send(100)
      }
      #expect(g.state == .created)
      #expect(log.events.isEmpty)
      #expect(try await g.next() == 1)
      #expect(log.events == ["body start"])
      #expect(g.state == .suspended)
    }
  }

  @Test("AG-017: a plain resume does not trigger the body's catch-all; the body runs to its end")
  func resumeDoesNotThrow() async throws {
    try await withDeadline { () async throws in
      let log = EventLog()
      let g = swallowOnceThenEnd(log: log)
      #expect(try await g.next() == .some(nil))
      #expect(try await g.next() == nil)
      #expect(log.events == ["DONE"])
      #expect(g.state == .closed)
    }
  }

  @Test(
    "AG-018: an error after a send propagates out of send after the awaiting cleanup completed")
  func sendThenBodyFails() async throws {
    try await withDeadline { () async throws in
      let log = EventLog()
      @Sendable func failing() async throws {
        await Task.yield()
        throw ZeroDivisionError()
      }
      let g = AsyncGenerator<Int, Int> { yield in
        try await tryFinally {
          await Task.yield()
          _ = try await yield(1)
          try await failing()
          log.append("DONE += 1000")
        } finally: {
          await Task.yield()
          await awaitOutsideCancellation()
          log.append("DONE")
        }
      }
      #expect(try await g.next() == 1)
      await #expect(throws: ZeroDivisionError()) { try await g.send(100) }
      #expect(log.events == ["DONE"])
      #expect(g.state == .closed)
    }
  }

  @Test("SPEC 3.2: next() resumes with nil and send(v) with v, in any order")
  func nextAndSendResumptions() async throws {
    try await withDeadline { () async throws in
      let g = AsyncGenerator<String, String> { yield in
        var received = try await yield("start")
        while true {
          received = try await yield("got \(received ?? "nil")")
        }
      }
      #expect(try await g.next() == "start")
      #expect(try await g.send("a") == "got a")
      #expect(try await g.next() == "got nil")
      #expect(try await g.send("b") == "got b")
      try await g.close()
      #expect(try await g.send("c") == nil)
    }
  }
}
