import AsyncGenerators
import Testing

/// SPEC 2 (`Yield`) and 3.7: a `Yield` works only in its own body's task.
@Suite("Yield outside its body")
struct YieldTests {
  @Test("Misuse: a Yield escaped from the body and called later throws yieldOutsideBody")
  func escapedYield() async throws {
    try await withDeadline { () async throws in
      let escaped = Locked<AsyncGenerator<Int, Void>.Yield?>(nil)
      let g = AsyncGenerator<Int, Void> { yield in
        escaped.set(yield)
        try await yield(1)
        try await yield(2)
      }
      #expect(try await g.next() == 1)
      let yield = try #require(escaped.current)
      // While the body is parked at a yield.
      await #expect(throws: AsyncGeneratorError.yieldOutsideBody) { try await yield(99) }
      #expect(g.state == .suspended)
      #expect(try await g.next() == 2)
      // After the generator has closed.
      #expect(try await g.next() == nil)
      await #expect(throws: AsyncGeneratorError.yieldOutsideBody) { try await yield(100) }
      #expect(g.state == .closed)
    }
  }

  @Test(
    "Misuse: a Yield called from another task while a call is in flight throws yieldOutsideBody; the call is not answered by it"
  )
  func yieldFromAnotherTaskWhileRunning() async throws {
    try await withDeadline { () async throws in
      let escaped = Locked<AsyncGenerator<Int, Void>.Yield?>(nil)
      let awaiting = Gate()
      let release = Gate()
      let g = AsyncGenerator<Int, Void> { yield in
        escaped.set(yield)
        awaiting.open()
        await release.wait()
        try await yield(1)
      }
      let consumer = Task { try await g.next() }
      await awaiting.wait()
      let yield = try #require(escaped.current)
      await #expect(throws: AsyncGeneratorError.yieldOutsideBody) { try await yield(99) }
      #expect(g.state == .running)
      release.open()
      #expect(try await consumer.value == 1)
    }
  }

  @Test("Misuse: a Yield called from an async let child of the body throws yieldOutsideBody")
  func yieldFromAsyncLet() async throws {
    try await withDeadline { () async throws in
      let log = EventLog()
      let g = AsyncGenerator<Int, Void> { yield in
        async let child = yield(5)
        do {
          _ = try await child
          log.append("child delivered")
        } catch {
          log.append("child: \(error)")
        }
        try await yield(6)
      }
      #expect(try await g.next() == 6)
      #expect(log.events == ["child: yieldOutsideBody"])
      #expect(try await g.next() == nil)
    }
  }

  @Test("Misuse: a Yield called from a task-group child of the body throws yieldOutsideBody")
  func yieldFromTaskGroup() async throws {
    try await withDeadline { () async throws in
      let log = EventLog()
      let g = AsyncGenerator<Int, Void> { yield in
        await withTaskGroup(of: String.self) { group in
          for i in 0..<3 {
            group.addTask {
              do {
                try await yield(i)
                return "delivered \(i)"
              } catch {
                return "\(error)"
              }
            }
          }
          for await result in group { log.append(result) }
        }
        try await yield(10)
      }
      #expect(try await g.next() == 10)
      #expect(log.events == Array(repeating: "yieldOutsideBody", count: 3))
      #expect(g.state == .suspended)
    }
  }

  @Test("Misuse: a Yield of one generator called in another generator's body is rejected")
  func yieldOfAnotherGenerator() async throws {
    try await withDeadline { () async throws in
      let escaped = Locked<AsyncGenerator<Int, Void>.Yield?>(nil)
      let first = AsyncGenerator<Int, Void> { yield in
        escaped.set(yield)
        try await yield(1)
      }
      #expect(try await first.next() == 1)
      let second = AsyncGenerator<String, Void> { yield in
        do {
          if let foreign = escaped.current { try await foreign(2) }
          try await yield("delivered")
        } catch {
          try await yield("\(error)")
        }
      }
      #expect(try await second.next() == "yieldOutsideBody")
      #expect(first.state == .suspended)
      #expect(try await first.next() == nil)
    }
  }
}
