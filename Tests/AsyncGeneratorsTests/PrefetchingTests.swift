import AsyncGenerators
import Testing

@Suite("prefetching(_:): a body that runs ahead, for iteration only")
struct PrefetchingTests {
  /// Yields `0..<count`, logging "yielded i" once each yield has returned.
  func counting(_ count: Int, log: EventLog) -> AsyncGenerator<Int, Void> {
    AsyncGenerator { yield in
      for i in 0..<count {
        try await yield(i)
        log.append("yielded \(i)")
      }
      log.append("returned")
    }
  }

  @Test("The same elements, in order; running while iterating, closed at the end")
  func sameElements() async throws {
    try await withDeadline { () async throws in
      let generator = counting(1000, log: EventLog())
      var got: [Int] = []
      for try await i in generator.prefetching(16) {
        got.append(i)
        #expect(generator.state == .running)
      }
      #expect(got == Array(0..<1000))
      #expect(generator.state == .closed)
    }
  }

  @Test("The body runs at most count elements ahead (count < 1 counts as 1)", arguments: [3, 0])
  func boundedAhead(count: Int) async throws {
    try await withDeadline { () async throws in
      let log = EventLog()
      let generator = counting(100, log: log)
      var iterator = generator.prefetching(count).makeAsyncIterator()
      #expect(try await iterator.next() == 0)
      let ahead = max(1, count)
      // The first element was taken; the body fills the ring (it is woken again only once
      // the ring has drained to half), and then its next push waits.
      #expect(await eventually { log.events.count >= ahead })
      try await Task.sleep(for: .milliseconds(20))
      #expect(log.events.count <= ahead + 1)
      #expect(try await iterator.next() == 1)
    }
  }

  @Test("While it iterates, direct calls and a second prefetching iteration are refused")
  func exclusive() async throws {
    try await withDeadline { () async throws in
      let generator = counting(100, log: EventLog())
      var iterator = generator.prefetching(4).makeAsyncIterator()
      #expect(try await iterator.next() == 0)
      await #expect(throws: AsyncGeneratorError.alreadyRunning) { try await generator.next() }
      await #expect(throws: AsyncGeneratorError.alreadyRunning) { try await generator.close() }
      await #expect(throws: AsyncGeneratorError.alreadyRunning) {
        try await generator.throw(FooError())
      }
      var second = generator.prefetching(4).makeAsyncIterator()
      await #expect(throws: AsyncGeneratorError.alreadyRunning) { try await second.next() }
      #expect(try await iterator.next() == 1)
    }
  }

  @Test("Breaking out closes the generator and discards what was fetched ahead")
  func breakCloses() async throws {
    try await withDeadline { () async throws in
      let log = EventLog()
      let generator = AsyncGenerator<Int, Void> { yield in
        do {
          for i in 0..<100 { try await yield(i) }
        } catch {
          await Task.yield()
          log.append("cleanup after \(error)")
          throw error
        }
      }
      for try await i in generator.prefetching(8) where i == 2 { break }
      #expect(await eventually { generator.state == .closed })
      #expect(log.events == ["cleanup after GeneratorExit()"])
      #expect(try await generator.next() == nil)
    }
  }

  @Test("After the body returns, the state stays running until the end is delivered")
  func runningUntilDrained() async throws {
    try await withDeadline { () async throws in
      let log = EventLog()
      let generator = counting(3, log: log)
      var iterator = generator.prefetching(8).makeAsyncIterator()
      #expect(try await iterator.next() == 0)
      #expect(await eventually { log.events.last == "returned" })
      #expect(generator.state == .running)
      #expect(try await iterator.next() == 1)
      #expect(try await iterator.next() == 2)
      #expect(try await iterator.next() == nil)
      #expect(generator.state == .closed)
      #expect(try await iterator.next() == nil)
    }
  }

  @Test("An error from the body comes after the elements fetched before it")
  func errorAfterElements() async throws {
    try await withDeadline { () async throws in
      let generator = AsyncGenerator<Int, Void> { yield in
        try await yield(1)
        try await yield(2)
        throw FooError()
      }
      var got: [Int] = []
      await #expect(throws: FooError.self) {
        for try await i in generator.prefetching(8) { got.append(i) }
      }
      #expect(got == [1, 2])
      #expect(generator.state == .closed)
    }
  }

  @Test("It continues a suspended generator, and is empty on a closed one")
  func continuesAndEnds() async throws {
    try await withDeadline { () async throws in
      let resumed = Locked<[Int?]>([])
      let generator = AsyncGenerator<Int, Int> { yield in
        for i in 0..<4 {
          let sent = try await yield(i)
          resumed.withLock { $0.append(sent) }
        }
      }
      #expect(try await generator.next() == 0)
      var rest: [Int] = []
      for try await i in generator.prefetching(2) { rest.append(i) }
      #expect(rest == [1, 2, 3])
      #expect(resumed.current == [nil, nil, nil, nil])
      var none: [Int] = []
      for try await i in generator.prefetching(2) { none.append(i) }
      #expect(none.isEmpty)
    }
  }

  @Test("Errors of the close after an early end go where finalization errors go")
  func earlyEndErrorsReported() async throws {
    try await withDeadline { () async throws in
      let recorder = HookRecorder()
      try await withAsyncGeneratorScope(onError: recorder.report) { _ in
        let generator = AsyncGenerator<Int, Void> { yield in
          do {
            for i in 0..<100 { try await yield(i) }
          } catch {
            throw ZeroDivisionError()
          }
        }
        for try await _ in generator.prefetching(4) { break }
      }
      #expect(recorder.errors.current == [String(describing: ZeroDivisionError())])
    }
  }

  @Test("Cancelling the iterating task is forwarded to the body")
  func cancellationForwarded() async throws {
    try await withDeadline { () async throws in
      let log = EventLog()
      let started = Gate()
      let task = Task {
        let generator = AsyncGenerator<Int, Void> { yield in
          try await yield(1)
          started.open()
          do {
            try await Task.sleep(for: .seconds(60))
          } catch {
            log.append("body saw \(error)")
            throw error
          }
        }
        for try await _ in generator.prefetching(4) {}
      }
      await started.wait()
      task.cancel()
      await #expect(throws: CancellationError.self) { try await task.value }
      #expect(log.events == ["body saw CancellationError()"])
    }
  }
}
