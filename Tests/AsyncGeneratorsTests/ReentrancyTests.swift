import AsyncGenerators
import Testing

/// CATALOGUE group REENT and SPEC 3.7 (re-entrancy): concurrent calls are rejected, not queued.
@Suite("Re-entrancy")
struct ReentrancyTests {
  /// A call a second task makes while the first one's call is in flight.
  enum Call: String, CaseIterable, Sendable {
    case next
    case send
    case throwError
    case close

    func perform(on g: AsyncGenerator<Int, Int>) async throws {
      switch self {
      case .next: _ = try await g.next()
      case .send: _ = try await g.send(7)
      case .throwError: _ = try await g.throw(MyError())
      case .close: try await g.close()
      }
    }
  }

  @Test(
    "AG-063: the body calling next() on itself gets alreadyRunning; uncaught, it ends the generator"
  )
  func selfNext() async throws {
    try await withDeadline { () async throws in
      let box = GeneratorBox<Int, Int>()
      let stateInside = Locked<AsyncGeneratorState?>(nil)
      box.generator = AsyncGenerator { yield in
        stateInside.set(box.generator.state)
        _ = try await box.generator.next()
        try await yield(1)
      }
      let g = box.generator
      defer { box.clear() }
      await #expect(throws: AsyncGeneratorError.alreadyRunning) { try await g.next() }
      #expect(stateInside.current == .running)
      #expect(g.state == .closed)
    }
  }

  @Test(
    "Misuse: every call the body makes on its own generator throws alreadyRunning and changes nothing",
    arguments: Call.allCases)
  func selfCall(_ call: Call) async throws {
    try await withDeadline { () async throws in
      let box = GeneratorBox<Int, Int>()
      let log = EventLog()
      box.generator = AsyncGenerator { yield in
        try await yield(0)
        do {
          try await call.perform(on: box.generator)
          log.append("call returned")
        } catch {
          log.append("\(error)")
        }
        log.append("state \(box.generator.state)")
        try await yield(1)
        log.append("resumed")
      }
      let g = box.generator
      defer { box.clear() }
      #expect(try await g.next() == 0)
      #expect(try await g.next() == 1)
      #expect(log.events == ["alreadyRunning", "state running"])
      #expect(g.state == .suspended)
      #expect(try await g.next() == nil)
      #expect(log.events.last == "resumed")
    }
  }

  @Test(
    "AG-064, AG-065, AG-066, AG-069: while a call is in flight and the body awaits, every other call throws alreadyRunning; state is running",
    arguments: Call.allCases)
  func concurrentCallRejected(_ call: Call) async throws {
    try await withDeadline { () async throws in
      let awaiting = Gate()
      let release = Gate()
      let g = AsyncGenerator<Int, Int> { yield in
        var n = 0
        while true {
          awaiting.open()
          await release.wait()
          _ = try await yield(n)
          n += 1
        }
      }
      let first = Task { try await g.next() }
      await awaiting.wait()
      #expect(g.state == .running)
      await #expect(throws: AsyncGeneratorError.alreadyRunning) { try await call.perform(on: g) }
      #expect(g.state == .running)
      release.open()
      #expect(try await first.value == 0)
      #expect(g.state == .suspended)
    }
  }

  @Test(
    "AG-067: an in-flight throw counts as running: send and throw from elsewhere are rejected")
  func inFlightThrowIsRunning() async throws {
    try await withDeadline { () async throws in
      let inHandler = Gate()
      let release = Gate()
      let g = AsyncGenerator<Int, Int> { yield in
        do {
          try await yield(0)
        } catch is MyError {
          inHandler.open()
          await release.wait()
          try await yield(1)
        }
      }
      #expect(try await g.next() == 0)
      let thrower = Task { try await g.throw(MyError()) }
      await inHandler.wait()
      await #expect(throws: AsyncGeneratorError.alreadyRunning) { try await g.send(5) }
      await #expect(throws: AsyncGeneratorError.alreadyRunning) { try await g.throw(MyError()) }
      release.open()
      #expect(try await thrower.value == 1)
    }
  }

  @Test(
    "AG-068: a rejected call has no effect: its error never reaches the body; the in-flight call completes; nothing is lost"
  )
  func rejectedCallHasNoEffect() async throws {
    try await withDeadline { () async throws in
      let log = EventLog()
      let awaiting = Gate()
      let release = Gate()
      let g = AsyncGenerator<Int, Int> { yield in
        var n = 0
        while true {
          do {
            awaiting.open()
            await release.wait()
            _ = try await yield(n)
          } catch let error as MyError {
            log.append("body saw \(error)")
          }
          n += 1
        }
      }
      let first = Task { try await g.next() }
      await awaiting.wait()
      for call in Call.allCases {
        await #expect(throws: AsyncGeneratorError.alreadyRunning) { try await call.perform(on: g) }
        #expect(g.state == .running)
      }
      release.open()
      #expect(try await first.value == 0)
      #expect(g.state == .suspended)
      #expect(try await g.next() == 1)
      #expect(log.events.isEmpty)
      try await g.close()
    }
  }

  @Test(
    "Misuse: two tasks call next() at once: one gets alreadyRunning, the other the element; nothing lost"
  )
  func twoTasksRace() async throws {
    try await withDeadline { () async throws in
      let release = Gate()
      let g = AsyncGenerator<Int, Void> { yield in
        var n = 0
        while true {
          await release.wait()
          try await yield(n)
          n += 1
        }
      }
      // Neither task is ordered before the other; whichever comes second is rejected while
      // the first waits for the gate, which opens only after that rejection.
      try await withThrowingTaskGroup(of: Result<Int?, any Error>.self) { group in
        for _ in 0..<2 {
          group.addTask {
            do { return .success(try await g.next()) } catch { return .failure(error) }
          }
        }
        let earlier = try #require(await group.next())
        #expect(throws: AsyncGeneratorError.alreadyRunning) { try earlier.get() }
        release.open()
        let later = try #require(await group.next())
        #expect(try later.get() == 0)
      }
      #expect(try await g.next() == 1)
      #expect(try await g.next() == 2)
    }
  }

  @Test("Misuse: close() while a next() is in flight throws alreadyRunning; next still completes")
  func closeWhileNextInFlight() async throws {
    try await withDeadline { () async throws in
      let log = EventLog()
      let awaiting = Gate()
      let release = Gate()
      let g = AsyncGenerator<Int, Void> { yield in
        try await tryFinally {
          awaiting.open()
          await release.wait()
          try await yield(1)
          try await yield(2)
        } finally: {
          log.append("finally")
        }
      }
      let consumer = Task { try await g.next() }
      await awaiting.wait()
      await #expect(throws: AsyncGeneratorError.alreadyRunning) { try await g.close() }
      #expect(log.events.isEmpty)
      release.open()
      #expect(try await consumer.value == 1)
      #expect(g.state == .suspended)
      try await g.close()
      #expect(log.events == ["finally"])
      #expect(g.state == .closed)
    }
  }

  @Test("SPEC 3.7: a rejected call during close's cleanup changes nothing; close completes")
  func callDuringCloseRejected() async throws {
    try await withDeadline { () async throws in
      let inCleanup = Gate()
      let release = Gate()
      let g = AsyncGenerator<Int, Int> { yield in
        do {
          try await yield(1)
        } catch {
          inCleanup.open()
          await release.wait()
          throw error
        }
      }
      _ = try await g.next()
      let closer = Task { try await g.close() }
      await inCleanup.wait()
      #expect(g.state == .running)
      for call in Call.allCases {
        await #expect(throws: AsyncGeneratorError.alreadyRunning) { try await call.perform(on: g) }
      }
      release.open()
      try await closer.value
      #expect(g.state == .closed)
    }
  }
}
