import AsyncGenerators
import Foundation
import Testing

@Suite("Finalization of abandoned generators")
struct FinalizationTests {
  @Test("AG-095: the finalizer runs only for generators that were called and are not closed")
  func finalizerOnlyForCalledOpenGenerators() async throws {
    try await withDeadline { () async throws in
      let recorder = HookRecorder()
      let log = EventLog()
      try await withAsyncGeneratorHooks(recorder.recordingHooks) {
        _ = cleanupGenerator("untouched", log: log)
        do {  // a call was made (and failed): hooks were read
          let generator = AsyncGenerator<Int, Int> { yield in try await yield(1) }
          _ = try? await generator.send(1)
        }
        try await takeOneAndDrop { cleanupGenerator("suspended", log: log) }
        do {
          let exhausted = cleanupGenerator("exhausted", count: 1, log: log)
          while try await exhausted.next() != nil {}
        }
        do {
          let closed = cleanupGenerator("closed", log: log)
          _ = try await closed.next()
          try await closed.close()
        }
        do {
          let closedFresh = cleanupGenerator("closed fresh", log: log)
          try await closedFresh.close()
        }
        do {
          let thrownFresh = cleanupGenerator("thrown fresh", log: log)
          _ = try? await thrownFresh.throw(FooError())
        }
      }
      let finalized = recorder.finalized.current
      #expect(finalized.map(\.state) == [.created, .suspended])
      for handle in finalized { try await handle.close() }
      #expect(log.count(of: "suspended cleanup") == 1)
    }
  }

  @Test("AG-096: a finalizer that keeps the handle keeps the body parked until it is closed")
  func keptHandleResurrects() async throws {
    try await withDeadline { () async throws in
      let recorder = HookRecorder()
      let log = EventLog()
      try await withAsyncGeneratorHooks(recorder.recordingHooks) {
        try await takeOneAndDrop { cleanupGenerator("g", log: log) }
      }
      let handle = try #require(recorder.finalized.current.first)
      #expect(handle.state == .suspended)
      #expect(log.events.isEmpty)
      try await handle.close()
      #expect(log.events == ["g cleanup started", "g cleanup", "g ended"])
      #expect(handle.state == .closed)
    }
  }

  @Test("AG-097 (Swift): a finalizer that drops its handle leaves the library to close it")
  func droppedHandleIsFinalizedByTheLibrary() async throws {
    try await withDeadline { () async throws in
      let log = EventLog()
      let dropping = AsyncGeneratorHooks(finalizer: { _ in })
      try await withAsyncGeneratorHooks(dropping) {
        try await takeOneAndDrop { cleanupGenerator("g", log: log) }
      }
      #expect(await eventually { log.count(of: "g ended") == 1 })
    }
  }

  @Test("AG-098, AG-102a: without a finalizer the library closes it, and awaiting cleanup works")
  func libraryFinalizationAwaitsCleanup() async throws {
    try await withDeadline { () async throws in
      let log = EventLog()
      try await Task.detached {  // no hooks installed: no finalizer is kept
        try await takeOneAndDrop {
          AsyncGenerator { yield in
            do {
              try await yield(1)
            } catch {
              try await Task.sleep(for: .milliseconds(1))  // an await that really suspends
              log.append("cleanup finished")
              throw error
            }
          }
        }
      }.value
      #expect(await eventually { log.count(of: "cleanup finished") == 1 })
    }
  }

  @Test("AG-099: finalization is scheduled, not run inside the releasing deinit")
  func finalizationIsAsynchronous() async throws {
    try await withDeadline { () async throws in
      let log = EventLog()
      let gate = Gate()
      try await withAsyncGeneratorScope { _ in
        // If the cleanup ran inside the deinit, dropping would wait on the gate forever.
        try await takeOneAndDrop { cleanupGenerator("g", log: log, gate: gate) }
        log.append("dropped")
        gate.open()
      }
      #expect(log.events.contains("dropped"))
      #expect(log.events.last == "g ended")
    }
  }

  @Test("AG-100, AG-101: a generator dropped on another thread is finalized through its scope")
  func droppedOnAnotherThread() async throws {
    try await withDeadline { () async throws in
      let log = EventLog()
      let box = Locked<AsyncGenerator<Int, Void>?>(nil)
      try await withAsyncGeneratorScope { scope in
        let generator = cleanupGenerator("g", log: log)
        _ = try await generator.next()
        box.set(generator)
        _ = consume generator
        // The last reference goes away on a plain thread, outside any task.
        let thread = Thread { box.set(nil) }
        thread.start()
        #expect(await eventually { log.count(of: "g ended") == 1 })
        #expect(await eventually { scope.liveGenerators == 0 })
      }
    }
  }

  @Test("AG-102b: a generator dropped after its scope ended is finalized by the library")
  func outlivesItsScope() async throws {
    try await withDeadline { () async throws in
      let log = EventLog()
      let recorder = HookRecorder()
      let generator = try await withAsyncGeneratorScope(onError: recorder.report) { _ in
        let generator = cleanupGenerator("g", log: log)
        _ = try await generator.next()
        return generator
      }
      // The scope closed it at its exit, although the object lives on.
      #expect(generator.state == .closed)
      #expect(log.count(of: "g cleanup") == 1)
      #expect(recorder.errors.current.isEmpty)

      // A generator first iterated in a scope but started only after it ended.
      let late = await withAsyncGeneratorScope { _ in
        let late = cleanupGenerator("late", log: log)
        _ = try? await late.send(())  // reads the scope's hooks; stays created
        return late
      }
      #expect(late.state == .closed)
      _ = late
    }
  }

  @Test("AG-103: a generator is finalized by the scope that first iterated it")
  func finalizedByItsOwnScope() async throws {
    try await withDeadline { () async throws in
      let log = EventLog()
      try await withAsyncGeneratorScope { outer in
        let generator = cleanupGenerator("g", log: log)
        _ = try await generator.next()
        try await withAsyncGeneratorScope { inner in
          _ = try await generator.next()
          #expect(inner.liveGenerators == 0)
        }
        #expect(generator.state == .suspended)
        #expect(outer.liveGenerators == 1)
        await outer.shutdownGenerators()
        #expect(generator.state == .closed)
      }
      #expect(log.count(of: "g cleanup") == 1)
    }
  }

  @Test("Handles: equal for one generator; the last one dropped finalizes an orphan")
  func handles() async throws {
    try await withDeadline { () async throws in
      let log = EventLog()
      let kept = Locked<AnyAsyncGenerator?>(nil)
      let hooks = AsyncGeneratorHooks(finalizer: { handle in kept.set(handle) })
      try await withAsyncGeneratorHooks(hooks) {
        let generator = cleanupGenerator("g", log: log)
        let other = cleanupGenerator("other", log: log)
        #expect(AnyAsyncGenerator(generator) == AnyAsyncGenerator(generator))
        #expect(AnyAsyncGenerator(generator) != AnyAsyncGenerator(other))
        #expect(Set([AnyAsyncGenerator(generator), AnyAsyncGenerator(generator)]).count == 1)
        _ = try await generator.next()
      }
      #expect(kept.current?.state == .suspended)
      #expect(log.events.isEmpty)
      kept.set(nil)  // no AsyncGenerator, no handle: the library finalizes it
      #expect(await eventually { log.count(of: "g ended") == 1 })
    }
  }
}
