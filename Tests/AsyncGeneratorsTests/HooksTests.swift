import AsyncGenerators
import Testing

@Suite("Hooks: firstIteration and finalizer, per task")
struct HooksTests {
  @Test("AG-086: no hooks are installed outside withAsyncGeneratorHooks")
  func noHooksByDefault() async {
    await Task.detached {
      #expect(AsyncGeneratorHooks.current == nil)
    }.value
  }

  @Test("AG-088, AG-094 (Swift): hooks are installed exactly as given and restored afterwards")
  func installedExactlyAndRestored() async {
    let recorder = HookRecorder()
    await withAsyncGeneratorHooks(recorder.recordingHooks) {
      #expect(AsyncGeneratorHooks.current?.firstIteration != nil)
      #expect(AsyncGeneratorHooks.current?.finalizer != nil)
      // A nil hook means none, not "keep the outer one".
      await withAsyncGeneratorHooks(AsyncGeneratorHooks(firstIteration: { _ in })) {
        #expect(AsyncGeneratorHooks.current?.firstIteration != nil)
        #expect(AsyncGeneratorHooks.current?.finalizer == nil)
      }
      #expect(AsyncGeneratorHooks.current?.finalizer != nil)
    }
    await Task.detached { #expect(AsyncGeneratorHooks.current == nil) }.value
    await withAsyncGeneratorScope { _ in #expect(AsyncGeneratorHooks.current != nil) }
  }

  @Test("AG-089: firstIteration runs once, at the first call, with the generator")
  func firstIterationOnceAtFirstCall() async throws {
    try await withDeadline { () async throws in
      let recorder = HookRecorder()
      try await withAsyncGeneratorHooks(recorder.recordingHooks) { () async throws in
        let generator = AsyncGenerator<Int, Void> { yield in
          try await yield(1)
          try await yield(2)
        }
        #expect(recorder.firstIterations.current.isEmpty)
        #expect(try await generator.next() == 1)
        #expect(recorder.firstIterations.current == [AnyAsyncGenerator(generator)])
        #expect(try await generator.next() == 2)
        #expect(try await generator.next() == nil)
        #expect(recorder.firstIterations.current.count == 1)
      }
    }
  }

  @Test(
    "AG-090, AG-016: firstIteration runs for a first send, throw or close, even when it fails",
    arguments: ["send", "throw", "close"])
  func firstIterationForEveryFirstCall(call: String) async throws {
    try await withDeadline { () async throws in
      let recorder = HookRecorder()
      let log = EventLog()
      await withAsyncGeneratorHooks(recorder.recordingHooks) {
        let generator = AsyncGenerator<Int, Int> { yield in
          log.append("body ran")
          try await yield(1)
        }
        switch call {
        case "send":
          await #expect(throws: AsyncGeneratorError.sendToJustStarted) {
            try await generator.send(5)
          }
        case "throw":
          await #expect(throws: FooError()) { try await generator.throw(FooError()) }
        default:
          await #expect(throws: Never.self) { try await generator.close() }
        }
        #expect(recorder.firstIterations.current == [AnyAsyncGenerator(generator)])
      }
      #expect(log.events.isEmpty)
    }
  }

  @Test("AG-091: the finalizer is the one read at the first call, not at the drop")
  func finalizerCapturedAtFirstIteration() async throws {
    try await withDeadline { () async throws in
      let first = HookRecorder()
      let second = HookRecorder()
      let log = EventLog()
      let generator = try await withAsyncGeneratorHooks(first.recordingHooks) {
        let generator = cleanupGenerator("g", log: log)
        _ = try await generator.next()
        return generator
      }
      let handle = AnyAsyncGenerator(generator)
      try await withAsyncGeneratorHooks(second.recordingHooks) {
        _ = try await generator.next()  // later calls read no hooks
        try await takeOneAndDrop { cleanupGenerator("h", log: log) }
      }
      #expect(second.firstIterations.current.count == 1)
      #expect(second.finalized.current.count == 1)
      _ = consume generator
      #expect(first.finalized.current == [handle])
      // The kept handles keep the bodies alive until someone closes them.
      for kept in first.finalized.current + second.finalized.current {
        #expect(kept.state == .suspended)
        try await kept.close()
      }
      #expect(log.count(of: "g cleanup") == 1)
      #expect(log.count(of: "h cleanup") == 1)
    }
  }

  @Test("AG-093: hooks belong to a task: child tasks inherit them, detached tasks do not")
  func hooksAreTaskLocal() async {
    let recorder = HookRecorder()
    await withAsyncGeneratorHooks(recorder.recordingHooks) {
      async let inChild = AsyncGeneratorHooks.current != nil
      let inDetached = await Task.detached { AsyncGeneratorHooks.current != nil }.value
      #expect(await inChild)
      #expect(!inDetached)
      await Task.detached {
        await withAsyncGeneratorHooks(AsyncGeneratorHooks()) {
          #expect(AsyncGeneratorHooks.current?.firstIteration == nil)
        }
      }.value
      #expect(AsyncGeneratorHooks.current?.firstIteration != nil)
    }
  }
}
