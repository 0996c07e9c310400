import AsyncGenerators
import Foundation
import Testing

@Suite("Scopes: tracking, finalizing and shutting down generators")
struct ScopeTests {
  @Test("AG-104, AG-125: a generator left by break is closed when its scope ends, silently")
  func breakThenScopeCloses() async throws {
    try await withDeadline { () async throws in
      let log = EventLog()
      let recorder = HookRecorder()
      try await withAsyncGeneratorScope(onError: recorder.report) { _ in
        for try await i in cleanupGenerator("g", log: log) where i == 1 { break }
        let kept = cleanupGenerator("kept", log: log)
        for try await _ in kept { break }
        #expect(kept.state == .suspended)
      }
      #expect(log.count(of: "g cleanup") == 1)
      #expect(log.count(of: "kept cleanup") == 1)
      #expect(recorder.errors.current.isEmpty)
    }
  }

  @Test("AG-105, AG-039: an error from a close at shutdown reaches onError once")
  func shutdownErrorReported() async throws {
    try await withDeadline { () async throws in
      let log = EventLog()
      let recorder = HookRecorder()
      let generator = try await withAsyncGeneratorScope(onError: recorder.report) { _ in
        let generator = cleanupGenerator("g", log: log, cleanupError: ZeroDivisionError())
        _ = try await generator.next()
        return generator
      }
      #expect(recorder.errors.current == [String(describing: ZeroDivisionError())])
      #expect(generator.state == .closed)
    }
  }

  @Test("AG-106 (Swift): a finalizing close still running at exit is awaited, not cancelled")
  func finalizingCloseAwaitedAtExit() async throws {
    try await withDeadline { () async throws in
      let log = EventLog()
      let recorder = HookRecorder()
      try await withAsyncGeneratorScope(onError: recorder.report) { _ in
        try await takeOneAndDrop {
          AsyncGenerator { yield in
            do {
              try await yield(1)
            } catch {
              try await Task.sleep(for: .milliseconds(20))  // throws if cancelled
              log.append("cleanup finished")
              throw ZeroDivisionError()
            }
          }
        }
      }
      #expect(log.events == ["cleanup finished"])
      #expect(recorder.errors.current == [String(describing: ZeroDivisionError())])
    }
  }

  @Test("AG-107: shutdown closes concurrently; one failure stops no other; cancellation is quiet")
  func shutdownConcurrently() async throws {
    try await withDeadline { () async throws in
      let log = EventLog()
      let recorder = HookRecorder()
      let bothStarted = Gate()
      let started = Locked(0)
      func generator(_ name: String, failure: any Error) -> AsyncGenerator<Int, Void> {
        AsyncGenerator { yield in
          do {
            try await yield(1)
          } catch {
            if started.withLock({
              $0 += 1
              return $0
            }) == 2 {
              bothStarted.open()
            }
            await bothStarted.wait()  // each close waits for the other to start
            log.append("\(name) cleanup")
            throw failure
          }
        }
      }
      try await withAsyncGeneratorScope(onError: recorder.report) { _ in
        let failing = generator("failing", failure: ZeroDivisionError())
        let cancelled = generator("cancelled", failure: CancellationError())
        _ = try await failing.next()
        _ = try await cancelled.next()
      }
      #expect(Set(log.events) == ["failing cleanup", "cancelled cleanup"])
      #expect(recorder.errors.current == [String(describing: ZeroDivisionError())])
    }
  }

  @Test("AG-108: consumers cancelled mid-iteration leave nothing for the shutdown to close")
  func cancelledConsumersCleanUp() async throws {
    try await withDeadline { () async throws in
      let log = EventLog()
      let waiting = Locked(0)
      let bothWaiting = Gate()
      await withAsyncGeneratorScope { scope in
        let consumers = (0..<2).map { n in
          Task {
            let generator = AsyncGenerator<Int, Void> { yield in
              do {
                if waiting.withLock({
                  $0 += 1
                  return $0
                }) == 2 {
                  bothWaiting.open()
                }
                try await Task.sleep(for: .seconds(60))
                try await yield(1)
              } catch {
                await Task.yield()
                log.append("finalized \(n)")
                throw error
              }
            }
            for try await _ in generator {}
          }
        }
        await bothWaiting.wait()
        for consumer in consumers { consumer.cancel() }
        for consumer in consumers {
          await #expect(throws: CancellationError.self) { try await consumer.value }
        }
        #expect(log.events.count == 2)
        #expect(scope.liveGenerators == 0)
      }
    }
  }

  @Test("AG-109: a generator first iterated after shutdownGenerators() is closed at exit")
  func trackedAfterShutdown() async throws {
    try await withDeadline { () async throws in
      let log = EventLog()
      try await withAsyncGeneratorScope { scope in
        let first = cleanupGenerator("first", log: log)
        _ = try await first.next()
        await scope.shutdownGenerators()
        await scope.shutdownGenerators()  // may be called more than once
        #expect(first.state == .closed)
        let second = cleanupGenerator("second", log: log)
        _ = try await second.next()
        #expect(scope.liveGenerators == 1)
      }
      #expect(log.count(of: "first cleanup") == 1)
      #expect(log.count(of: "second cleanup") == 1)
    }
  }

  @Test("AG-110, AG-111: the scope shuts down on every exit and rethrows the body's error")
  func shutdownOnEveryExit() async throws {
    try await withDeadline { () async throws in
      let log = EventLog()
      await #expect(throws: FooError.self) {
        try await withAsyncGeneratorScope { _ in
          let generator = cleanupGenerator("thrown", log: log)
          _ = try await generator.next()
          throw FooError()
        }
      }
      #expect(log.count(of: "thrown cleanup") == 1)

      // A cancelled scope still lets the cleanup's awaits work.
      let started = Gate()
      let task = Task {
        try await withAsyncGeneratorScope { _ in
          let generator = AsyncGenerator<Int, Void> { yield in
            do {
              try await yield(1)
            } catch {
              try await Task.sleep(for: .milliseconds(1))  // throws if cancelled
              log.append("cancelled scope cleanup")
              throw error
            }
          }
          _ = try await generator.next()
          started.open()
          try await Task.sleep(for: .seconds(60))
        }
      }
      await started.wait()
      task.cancel()
      await #expect(throws: CancellationError.self) { try await task.value }
      #expect(log.count(of: "cancelled scope cleanup") == 1)
    }
  }

  @Test("Scopes nest: the innermost one tracks what is first iterated inside it")
  func nestedScopes() async throws {
    try await withDeadline { () async throws in
      let log = EventLog()
      try await withAsyncGeneratorScope { outer in
        try await withAsyncGeneratorScope { inner in
          _ = try await cleanupGenerator("inner", log: log).next()
          #expect(outer.liveGenerators == 0)
        }
        #expect(log.count(of: "inner cleanup") == 1)
      }
    }
  }

  @Test("A scope forgets a generator once it is closed")
  func forgetsClosedGenerators() async throws {
    try await withDeadline { () async throws in
      try await withAsyncGeneratorScope { scope in
        let generators = (0..<10).map { _ in cleanupGenerator("g", log: EventLog()) }
        for generator in generators { _ = try await generator.next() }
        #expect(scope.liveGenerators == 10)
        for generator in generators.prefix(4) { try await generator.close() }
        #expect(scope.liveGenerators == 6)
        let exhausted = cleanupGenerator("e", count: 1, log: EventLog())
        while try await exhausted.next() != nil {}
        #expect(scope.liveGenerators == 6)
      }
    }
  }

  @Test("A generator with a call in flight at shutdown is reported and left to its caller")
  func runningAtShutdown() async throws {
    try await withDeadline { () async throws in
      let recorder = HookRecorder()
      let inBody = Gate()
      let release = Gate()
      let call = try await withAsyncGeneratorScope(onError: recorder.report) { _ in
        let generator = AsyncGenerator<Int, Void> { yield in
          try await yield(1)
          inBody.open()
          await release.wait()
          try await yield(2)
        }
        _ = try await generator.next()
        let call = Task { try await generator.next() }
        await inBody.wait()
        return call
      }
      #expect(recorder.errors.current == [String(describing: AsyncGeneratorError.alreadyRunning)])
      release.open()
      #expect(try await call.value == 2)
    }
  }

  @Test("shutdownTimeout cancels the closes still running and reports shutdownTimedOut")
  func shutdownTimeout() async throws {
    try await withDeadline { () async throws in
      let log = EventLog()
      let recorder = HookRecorder()
      try await withAsyncGeneratorScope(
        shutdownTimeout: .milliseconds(50), onError: recorder.report
      ) { _ in
        let generator = AsyncGenerator<Int, Void> { yield in
          do {
            try await yield(1)
          } catch {
            do {
              try await Task.sleep(for: .seconds(60))
            } catch {
              log.append("cleanup cancelled")
            }
            throw error
          }
        }
        _ = try await generator.next()
      }
      #expect(recorder.errors.current == [String(describing: AsyncGeneratorError.shutdownTimedOut)])
      #expect(await eventually { log.events == ["cleanup cancelled"] })
    }
  }

  @Test("Abandoned generators dropped from many threads at once are all finalized")
  func concurrentDrops() async throws {
    try await withDeadline { () async throws in
      let ended = Locked(0)
      let count = 64
      try await withAsyncGeneratorScope { scope in
        let generators = Locked<[AsyncGenerator<Int, Void>]>([])
        for _ in 0..<count {
          let generator = AsyncGenerator<Int, Void> { yield in
            do {
              try await yield(1)
            } catch {
              ended.withLock { $0 += 1 }
              throw error
            }
          }
          _ = try await generator.next()
          generators.withLock { $0.append(generator) }
        }
        DispatchQueue.concurrentPerform(iterations: count) { _ in
          _ = generators.withLock { $0.popLast() }  // released outside the lock
        }
        #expect(await eventually { ended.current == count })
        #expect(await eventually { scope.liveGenerators == 0 })
      }
    }
  }

  @Test("100,000 abandoned generators in one scope are all closed before it returns")
  func manyAbandoned() async throws {
    try await withDeadline(.seconds(120)) { () async throws in
      let ended = Counter()
      let count = 100_000
      try await withAsyncGeneratorScope { _ in
        for _ in 0..<count {
          let generator = AsyncGenerator<Int, Void> { yield in
            do {
              try await yield(1)
            } catch {
              ended.increment()
              throw error
            }
          }
          _ = try await generator.next()
        }
      }
      #expect(ended.value == count)
    }
  }
}

/// A counter cheap enough for 100,000 bodies.
final class Counter: Sendable {
  private let count = Locked(0)
  func increment() { count.withLock { $0 += 1 } }
  var value: Int { count.current }
}
