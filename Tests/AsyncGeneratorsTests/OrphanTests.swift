import AsyncGenerators
import Testing

/// A body that ignores GeneratorExit: it catches it, awaits a moment, and yields again.
func stubbornGenerator(log: EventLog) -> AsyncGenerator<Int, Void> {
  AsyncGenerator { yield in
    defer { log.append("body ended") }
    var exits = 0
    while true {
      do {
        try await yield(exits)
      } catch is GeneratorExit {
        exits += 1
        log.append("caught GeneratorExit \(exits)")
        try await Task.sleep(for: .milliseconds(1))  // throws once the body is abandoned
      }
    }
  }
}

@Suite("Orphans that ignore GeneratorExit")
struct OrphanTests {
  @Test("SPEC 4: finalizing an orphan that ignores GeneratorExit reports it, then abandons it")
  func orphanIsAbandoned() async throws {
    try await withDeadline { () async throws in
      let log = EventLog()
      let recorder = HookRecorder()
      try await withAsyncGeneratorScope(onError: recorder.report) { _ in
        try await takeOneAndDrop { stubbornGenerator(log: log) }
      }
      #expect(
        recorder.errors.current == [String(describing: AsyncGeneratorError.ignoredGeneratorExit)])
      // The first close's GeneratorExit was caught and ignored; the second abandons the body:
      // its yield throws GeneratorExit again (not CancellationError) and the body ends.
      #expect(log.events == ["caught GeneratorExit 1", "caught GeneratorExit 2", "body ended"])
    }
  }

  @Test("SPEC 4: an orphan's first close throws ignoredGeneratorExit at once, the second ends it")
  func orphanTwoStepByHand() async throws {
    try await withDeadline { () async throws in
      let log = EventLog()
      let kept = Locked<AnyAsyncGenerator?>(nil)
      try await withAsyncGeneratorHooks(AsyncGeneratorHooks(finalizer: { kept.set($0) })) {
        try await takeOneAndDrop { stubbornGenerator(log: log) }
      }
      let handle = try #require(kept.current)
      await #expect(throws: AsyncGeneratorError.ignoredGeneratorExit) { try await handle.close() }
      #expect(log.events == ["caught GeneratorExit 1"])
      #expect(handle.state == .suspended)
      try await handle.close()
      #expect(handle.state == .closed)
      #expect(log.events.last == "body ended")
      kept.set(nil)
    }
  }

  @Test("SPEC 3.5: a live generator that ignores GeneratorExit stays suspended at its yield")
  func liveGeneratorIsNotAbandoned() async throws {
    try await withDeadline { () async throws in
      let log = EventLog()
      let generator = stubbornGenerator(log: log)
      #expect(try await generator.next() == 0)
      await #expect(throws: AsyncGeneratorError.ignoredGeneratorExit) {
        try await generator.close()
      }
      await #expect(throws: AsyncGeneratorError.ignoredGeneratorExit) {
        try await generator.close()
      }
      #expect(generator.state == .suspended)
      #expect(try await generator.next() == 2)
      var reported: [String] = []
      await AnyAsyncGenerator(generator).finalize { reported.append(String(describing: $0)) }
      #expect(reported.count == 2)
      #expect(generator.state == .suspended)
      await #expect(throws: FooError.self) { try await generator.throw(FooError()) }
      #expect(log.events.last == "body ended")
    }
  }
}
