import AsyncGenerators
import Testing

/// CATALOGUE group STATE and SPEC 3.6.
@Suite("State")
struct StateTests {
  @Test("AG-077: a new generator is created")
  func created() {
    let g = AsyncGenerator<Int, Void> { yield in try await yield(1) }
    #expect(g.state == .created)
  }

  @Test("AG-078: after next() returned an element the generator is suspended")
  func suspended() async throws {
    try await withDeadline { () async throws in
      let g = AsyncGenerator<Int, Void> { yield in try await yield(0) }
      #expect(try await g.next() == 0)
      #expect(g.state == .suspended)
    }
  }

  @Test("AG-079: the body sees its own state as running; outside, it is suspended between calls")
  func runningInsideBody() async throws {
    try await withDeadline { () async throws in
      let box = GeneratorBox<Int, Void>()
      let seen = Locked<[AsyncGeneratorState]>([])
      box.generator = AsyncGenerator { yield in
        seen.withLock { $0.append(box.generator.state) }
        try await yield(1)
        seen.withLock { $0.append(box.generator.state) }
        try await yield(2)
      }
      let g = box.generator
      defer { box.clear() }
      #expect(try await g.next() == 1)
      #expect(g.state == .suspended)
      #expect(try await g.next() == 2)
      #expect(g.state == .suspended)
      #expect(seen.current == [.running, .running])
    }
  }

  @Test(
    "AG-080: running while next() is in flight with the body awaiting, and during close's cleanup")
  func runningWhileAwaiting() async throws {
    try await withDeadline { () async throws in
      let awaiting = Gate()
      let release = Gate()
      let inCleanup = Gate()
      let releaseCleanup = Gate()
      let g = AsyncGenerator<Int, Void> { yield in
        awaiting.open()
        await release.wait()
        do {
          try await yield(1)
        } catch {
          inCleanup.open()
          await releaseCleanup.wait()
          throw error
        }
      }
      let consumer = Task { try await g.next() }
      await awaiting.wait()
      #expect(g.state == .running)
      release.open()
      #expect(try await consumer.value == 1)
      let closer = Task { try await g.close() }
      await inCleanup.wait()
      #expect(g.state == .running)
      releaseCleanup.open()
      try await closer.value
      #expect(g.state == .closed)
    }
  }

  @Test("AG-081: five elements, then the sixth next() returns nil; closed")
  func closedAfterExhaustion() async throws {
    try await withDeadline { () async throws in
      let g = AsyncGenerator<Int, Void> { yield in
        for i in 0..<5 { try await yield(i) }
      }
      var countdown = 6
      while countdown > 0 {
        countdown -= 1
        if try await g.next() == nil { break }
      }
      #expect(countdown == 0)
      #expect(g.state == .closed)
    }
  }

  @Test("AG-082: closed after close() and after an escaped error")
  func closedAfterCloseOrError() async throws {
    try await withDeadline { () async throws in
      let closed = AsyncGenerator<Int, Void> { yield in try await yield(1) }
      _ = try await closed.next()
      try await closed.close()
      #expect(closed.state == .closed)

      let failed = AsyncGenerator<Int, Void> { yield in
        try await yield(1)
        throw ValueError()
      }
      _ = try await failed.next()
      await #expect(throws: ValueError()) { try await failed.next() }
      #expect(failed.state == .closed)
    }
  }

  @Test("AG-083: after close() failed with ignoredGeneratorExit the generator is suspended")
  func suspendedAfterIgnoredGeneratorExit() async throws {
    try await withDeadline { () async throws in
      let g = AsyncGenerator<Int, Void> { yield in
        do {
          try await yield(1)
        } catch {
          try await yield(2)
        }
      }
      _ = try await g.next()
      await #expect(throws: AsyncGeneratorError.ignoredGeneratorExit) { try await g.close() }
      #expect(g.state == .suspended)
      #expect(try await g.next() == nil)
      #expect(g.state == .closed)
    }
  }

  @Test("SPEC 3.6: the whole life: created, suspended, running (call in flight), closed")
  func lifecycle() async throws {
    try await withDeadline { () async throws in
      let awaiting = Gate()
      let release = Gate()
      let g = AsyncGenerator<Int, Void> { yield in
        try await yield(1)
        awaiting.open()
        await release.wait()
      }
      var states: [AsyncGeneratorState] = [g.state]
      _ = try await g.next()
      states.append(g.state)
      let consumer = Task { try await g.next() }
      await awaiting.wait()
      states.append(g.state)
      release.open()
      #expect(try await consumer.value == nil)
      states.append(g.state)
      #expect(states == [.created, .suspended, .running, .closed])
    }
  }
}
