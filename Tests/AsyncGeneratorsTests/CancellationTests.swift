import AsyncGenerators
import Testing

/// CATALOGUE group CANCEL and SPEC 3.9 (cancellation).
///
/// Sleeps here only stand for "an await that never finishes unless cancelled"; every step
/// that matters is ordered by gates. Cleanup that must keep working after a cancellation
/// awaits things that are not cancellation points (`Task.yield()`, gates, another task).
@Suite("Cancellation")
struct CancellationTests {
  @Test(
    "AG-113: a CancellationError from an await in the body (consumer not cancelled) propagates out of send after the cleanup's awaits"
  )
  func innerAwaitCancelled() async throws {
    try await withDeadline { () async throws in
      let log = EventLog()
      let inner = Locked<Task<Void, any Error>?>(nil)
      let awaiting = Gate()
      let g = AsyncGenerator<Int, Int> { yield in
        try await tryFinally {
          _ = try await yield(1)
          let task = Task { try await Task.sleep(for: .seconds(60)) }
          inner.set(task)
          awaiting.open()
          try await task.value
          log.append("DONE += 1000")
        } finally: {
          await Task.yield()
          try await Task.sleep(for: .milliseconds(1))  // the body task itself is not cancelled
          log.append("DONE = 1")
        }
      }
      #expect(try await g.next() == 1)
      let canceller = Task {
        await awaiting.wait()
        inner.current?.cancel()
      }
      await #expect(throws: CancellationError.self) { try await g.send(100) }
      await canceller.value
      #expect(log.events == ["DONE = 1"])
      #expect(g.state == .closed)
    }
  }

  @Test(
    "AG-114: a handler whose await is cancelled: throw rethrows CancellationError after the cleanup ran"
  )
  func handlerAwaitCancelled() async throws {
    try await withDeadline { () async throws in
      let log = EventLog()
      let inner = Locked<Task<Void, any Error>?>(nil)
      let awaiting = Gate()
      let g = AsyncGenerator<Int, Void> { yield in
        try await tryFinally {
          do {
            try await yield(1)
          } catch is FooError {
            let task = Task { try await Task.sleep(for: .seconds(60)) }
            inner.set(task)
            awaiting.open()
            try await task.value
          }
        } finally: {
          await Task.yield()
          await Task.yield()
          log.append("DONE = 1")
        }
      }
      #expect(try await g.next() == 1)
      let canceller = Task {
        await awaiting.wait()
        inner.current?.cancel()
      }
      await #expect(throws: CancellationError.self) { try await g.throw(FooError()) }
      await canceller.value
      #expect(log.events == ["DONE = 1"])
      #expect(g.state == .closed)
    }
  }

  @Test(
    "AG-115: cancelling the task awaiting next() is forwarded to the body's await; cleanup awaits still run; closed"
  )
  func cancelDuringNext() async throws {
    try await withDeadline { () async throws in
      let log = EventLog()
      let awaiting = Gate()
      let g = AsyncGenerator<Int, Void> { yield in
        try await yield(1)
        try await tryFinally {
          log.append("resumed; awaiting long sleep")
          awaiting.open()
          try await Task.sleep(for: .seconds(60))
          log.append("sleep finished")
        } finally: {
          log.append("finally start cancelled=\(Task.isCancelled)")
          await Task.yield()
          await awaitOutsideCancellation()
          log.append("finally end")
        }
      }
      #expect(try await g.next() == 1)
      let consumer = Task { try await g.next() }
      await awaiting.wait()
      consumer.cancel()
      await #expect(throws: CancellationError.self) { try await consumer.value }
      #expect(
        log.events == [
          "resumed; awaiting long sleep", "finally start cancelled=true", "finally end",
        ])
      #expect(g.state == .closed)
      #expect(try await g.next() == nil)
    }
  }

  @Test(
    "AG-116, SPEC 3.9: cancelling a consumer parked between calls does nothing: still suspended, later next works"
  )
  func cancelWhileParked() async throws {
    try await withDeadline { () async throws in
      let log = EventLog()
      let gotFirst = Gate()
      let g = AsyncGenerator<Int, Void> { yield in
        try await tryFinally {
          try await yield(1)
          log.append("resumed cancelled=\(Task.isCancelled)")
          try await yield(2)
        } finally: {
          log.append("finally cancelled=\(Task.isCancelled)")
          try await Task.sleep(for: .milliseconds(1))
          log.append("finally slept")
        }
      }
      let consumer = Task {
        let first = try await g.next()
        gotFirst.open()
        try await Task.sleep(for: .seconds(60))  // interrupted by the cancellation
        return first
      }
      await gotFirst.wait()
      consumer.cancel()
      await #expect(throws: CancellationError.self) { try await consumer.value }
      #expect(g.state == .suspended)
      #expect(log.events.isEmpty)
      #expect(try await g.next() == 2)
      #expect(log.events == ["resumed cancelled=false"])
      try await g.close()
      #expect(
        log.events == ["resumed cancelled=false", "finally cancelled=false", "finally slept"])
      #expect(g.state == .closed)
    }
  }

  @Test(
    "AG-117: a cancellation arriving while close() waits is forwarded to the cleanup; close throws CancellationError; closed"
  )
  func cancelDuringClose() async throws {
    try await withDeadline { () async throws in
      let log = EventLog()
      let inCleanup = Gate()
      let g = AsyncGenerator<Int, Void> { yield in
        do {
          try await yield(1)
        } catch {
          log.append("finally start")
          inCleanup.open()
          do {
            try await Task.sleep(for: .seconds(60))
          } catch {
            log.append("finally saw \(type(of: error))")
            throw error
          }
        }
      }
      _ = try await g.next()
      let closer = Task { try await g.close() }
      await inCleanup.wait()
      closer.cancel()
      await #expect(throws: CancellationError.self) { try await closer.value }
      #expect(log.events == ["finally start", "finally saw CancellationError"])
      #expect(g.state == .closed)
      try await g.close()
      #expect(try await g.next() == nil)
    }
  }

  @Test(
    "AG-118: cancelling the task awaiting throw() while the handler awaits: CancellationError after the outer cleanup's await; closed"
  )
  func cancelDuringThrow() async throws {
    try await withDeadline { () async throws in
      let log = EventLog()
      let inHandler = Gate()
      let g = AsyncGenerator<Int, Void> { yield in
        try await tryFinally {
          do {
            try await yield(1)
          } catch is FooError {
            log.append("handler awaiting")
            inHandler.open()
            try await Task.sleep(for: .seconds(60))
          }
        } finally: {
          log.append("finally")
          await awaitOutsideCancellation()
          log.append("finally end")
        }
      }
      _ = try await g.next()
      let thrower = Task { try await g.throw(FooError()) }
      await inHandler.wait()
      thrower.cancel()
      await #expect(throws: CancellationError.self) { try await thrower.value }
      #expect(log.events == ["handler awaiting", "finally", "finally end"])
      #expect(g.state == .closed)
    }
  }

  @Test(
    "AG-119: a timeout around next() (a cancelled child task) gives TimeoutError; the body saw cancellation and cleaned up; closed"
  )
  func timeoutAroundNext() async throws {
    try await withDeadline { () async throws in
      let log = EventLog()
      let g = AsyncGenerator<Int, Void> { yield in
        try await tryFinally {
          log.append("awaiting long sleep")
          try await Task.sleep(for: .seconds(60))
          try await yield(1)
        } finally: {
          log.append("finally start")
          await awaitOutsideCancellation()
          log.append("finally end")
        }
      }
      // A stand-in for `asyncio.timeout(0.01)`: race the call against a short sleep.
      await #expect(throws: TimeoutError()) {
        try await withThrowingTaskGroup(of: Int?.self) { group in
          group.addTask { try await g.next() }
          group.addTask {
            try await Task.sleep(for: .milliseconds(10))
            throw TimeoutError()
          }
          defer { group.cancelAll() }
          return try await group.next() ?? nil
        }
      }
      #expect(log.events == ["awaiting long sleep", "finally start", "finally end"])
      #expect(g.state == .closed)
    }
  }

  @Test(
    "AG-120 (Swift: SPEC 3.9, documented difference): a body that catches the cancellation and yields cannot continue: the yield throws CancellationError"
  )
  func swallowedCancellationCannotYield() async throws {
    try await withDeadline { () async throws in
      let log = EventLog()
      let awaiting = Gate()
      let g = AsyncGenerator<String, Void> { yield in
        do {
          awaiting.open()
          try await Task.sleep(for: .seconds(60))
        } catch is CancellationError {
          log.append("swallowed")
          do {
            try await yield("swallowed-cancel")
            log.append("delivered")
          } catch {
            log.append("yield threw \(type(of: error))")
            throw error
          }
        }
      }
      let consumer = Task { try await g.next() }
      await awaiting.wait()
      consumer.cancel()
      await #expect(throws: CancellationError.self) { try await consumer.value }
      #expect(log.events == ["swallowed", "yield threw CancellationError"])
      #expect(g.state == .closed)
    }
  }

  // MARK: SPEC 3.9, point by point

  @Test(
    "SPEC 3.9: a consumer cancelled before its first next(): the body task starts cancelled")
  func cancelledBeforeFirstCall() async throws {
    try await withDeadline { () async throws in
      let log = EventLog()
      let start = Gate()
      let g = AsyncGenerator<Int, Void> { _ in
        log.append("isCancelled=\(Task.isCancelled)")
        do {
          try await Task.sleep(for: .seconds(60))
          log.append("slept")
        } catch {
          log.append("sleep threw \(type(of: error))")
        }
      }
      let consumer = Task {
        await start.wait()
        return try await g.next()
      }
      consumer.cancel()
      start.open()
      #expect(try await consumer.value == nil)
      #expect(log.events == ["isCancelled=true", "sleep threw CancellationError"])
      #expect(g.state == .closed)
    }
  }

  @Test(
    "SPEC 3.9: a body started by a cancelled next() that yields at once: the yield throws; next throws CancellationError"
  )
  func cancelledStartThenYield() async throws {
    try await withDeadline { () async throws in
      let log = EventLog()
      let start = Gate()
      let g = AsyncGenerator<Int, Void> { yield in
        do {
          try await yield(1)
          log.append("delivered")
        } catch {
          log.append("yield threw \(type(of: error))")
          throw error
        }
      }
      let consumer = Task {
        await start.wait()
        return try await g.next()
      }
      consumer.cancel()
      start.open()
      await #expect(throws: CancellationError.self) { try await consumer.value }
      #expect(log.events == ["yield threw CancellationError"])
      #expect(g.state == .closed)
    }
  }

  @Test("SPEC 3.9: the body task of an already cancelled first next() is cancelled every time")
  func cancelledBeforeFirstCallRepeated() async throws {
    try await withDeadline(.seconds(30)) { () async throws in
      var notCancelled = 0
      for _ in 0..<500 {
        let seen = Locked<Bool?>(nil)
        let g = AsyncGenerator<Int, Void> { _ in seen.set(Task.isCancelled) }
        let consumer = Task {
          withUnsafeCurrentTask { $0?.cancel() }
          return try await g.next()
        }
        _ = try await consumer.value
        if seen.current != true { notCancelled += 1 }
      }
      #expect(notCancelled == 0)
    }
  }

  @Test(
    "SPEC 3.9: a yield entered by a cancelled body throws CancellationError; cleanup runs; the consumer sees it"
  )
  func yieldIsCancellationPoint() async throws {
    try await withDeadline { () async throws in
      let log = EventLog()
      let reached = Gate()
      let release = Gate()
      let g = AsyncGenerator<Int, Void> { yield in
        try await yield(0)
        do {
          reached.open()
          await release.wait()  // not a cancellation point
          log.append("yielding cancelled=\(Task.isCancelled)")
          try await yield(1)
          log.append("delivered")
        } catch {
          log.append("cleanup after \(type(of: error))")
          await Task.yield()
          throw error
        }
      }
      #expect(try await g.next() == 0)
      let consumer = Task { try await g.next() }
      await reached.wait()
      consumer.cancel()  // runs the cancellation handler, which cancels the body task, now
      release.open()
      await #expect(throws: CancellationError.self) { try await consumer.value }
      #expect(log.events == ["yielding cancelled=true", "cleanup after CancellationError"])
      #expect(g.state == .closed)
    }
  }

  @Test(
    "SPEC 3.9: the yield being resumed by an already cancelled next/send returns normally; the next yield throws",
    arguments: [false, true])
  func resumedYieldReturnsNormally(bySend: Bool) async throws {
    try await withDeadline { () async throws in
      let log = EventLog()
      let start = Gate()
      let g = AsyncGenerator<Int, Int> { yield in
        let sent = try await yield(1)
        log.append("resumed with \(sent.map(String.init) ?? "nil") cancelled=\(Task.isCancelled)")
        do {
          try await yield(2)
        } catch {
          log.append("second yield threw \(type(of: error))")
          throw error
        }
      }
      #expect(try await g.next() == 1)
      let consumer = Task {
        await start.wait()
        return bySend ? try await g.send(7) : try await g.next()
      }
      consumer.cancel()
      start.open()
      await #expect(throws: CancellationError.self) { try await consumer.value }
      let resumed = bySend ? "resumed with 7 cancelled=true" : "resumed with nil cancelled=true"
      #expect(log.events == [resumed, "second yield threw CancellationError"])
      #expect(g.state == .closed)
    }
  }

  @Test(
    "SPEC 3.9: a closer already cancelled when it calls close() does not cancel the body's cleanup"
  )
  func cancelledCloserDoesNotCancelCleanup() async throws {
    try await withDeadline { () async throws in
      let log = EventLog()
      let start = Gate()
      let g = AsyncGenerator<Int, Void> { yield in
        do {
          try await yield(1)
        } catch {
          log.append("cleanup cancelled=\(Task.isCancelled)")
          do {
            try await Task.sleep(for: .milliseconds(1))
            log.append("slept")
          } catch {
            log.append("sleep threw")
          }
          throw error
        }
      }
      #expect(try await g.next() == 1)
      let closer = Task {
        await start.wait()
        try await g.close()
      }
      closer.cancel()
      start.open()
      try await closer.value
      #expect(log.events == ["cleanup cancelled=false", "slept"])
      #expect(g.state == .closed)
    }
  }

  @Test("SPEC 3.9: a cancelled call of any kind ends the generator (forwarding is permanent)")
  func cancelledSendEndsGenerator() async throws {
    try await withDeadline { () async throws in
      let log = EventLog()
      let awaiting = Gate()
      let g = AsyncGenerator<Int, Int> { yield in
        var n = try await yield(0) ?? 0
        while true {
          do {
            awaiting.open()
            try await Task.sleep(for: .seconds(60))
          } catch {
            log.append("caught \(type(of: error))")
          }
          n = try await yield(n + 1) ?? 0
        }
      }
      #expect(try await g.next() == 0)
      let sender = Task { try await g.send(10) }
      await awaiting.wait()
      sender.cancel()
      await #expect(throws: CancellationError.self) { try await sender.value }
      #expect(log.events == ["caught CancellationError"])
      #expect(g.state == .closed)
      #expect(try await g.next() == nil)
    }
  }
}
