import AsyncGenerators
import Dispatch
import Testing

/// SPEC 3.10: the body runs in one task of its own, created by the `next()` that starts it,
/// with the caller's priority, task-local values and task-executor preference, and the
/// isolation of the body closure.
@Suite("Body task")
struct BodyTaskTests {
  @Test(
    "SPEC 3.10: the body task inherits the priority of the task whose next() starts it",
    arguments: [TaskPriority.low, .medium, .high])
  func inheritsPriority(_ priority: TaskPriority) async throws {
    try await withDeadline { () async throws in
      let seen = Locked<TaskPriority?>(nil)
      let recorded = Gate()
      let g = AsyncGenerator<Int, Void> { yield in
        seen.set(Task.currentPriority)
        recorded.open()
        try await yield(1)
      }
      // The test waits on a gate, not on the consumer's value, so nothing escalates it.
      let consumer = Task(priority: priority) { try await g.next() }
      await recorded.wait()
      #expect(seen.current == priority)
      #expect(try await consumer.value == 1)
      try await g.close()
    }
  }

  @Test(
    "SPEC 3.10: the body sees the task-local values of the next() that started it, for its whole life"
  )
  func inheritsTaskLocals() async throws {
    try await withDeadline { () async throws in
      let g = AsyncGenerator<String, Void> { yield in
        try await yield(Trace.id ?? "none")
        try await yield(Trace.id ?? "none")
      }
      let first = try await Trace.$id.withValue("starter") { try await g.next() }
      let second = try await Trace.$id.withValue("later") { try await g.next() }
      #expect(first == "starter")
      #expect(second == "starter")
    }
  }

  @Test("SPEC 3.10: the body runs in one task of its own, not in its consumers' tasks")
  func oneTaskOfItsOwn() async throws {
    try await withDeadline { () async throws in
      let g = AsyncGenerator<Bool, Void> { yield in
        // A task-local bound inside the body stays bound across its yields: same task.
        try await Trace.$id.withValue("body") {
          try await yield(Trace.id == "body")
          try await yield(Trace.id == "body")
        }
      }
      #expect(try await g.next() == true)
      #expect(Trace.id == nil)
      let fromAnotherTask = try await Task { try await g.next() }.value
      #expect(fromAnotherTask == true)
    }
  }

  @Test("SPEC 3.10: the body task inherits the task-executor preference of the starting next()")
  func inheritsTaskExecutorPreference() async throws {
    try await withDeadline { () async throws in
      let executor = QueueExecutor()
      let g = AsyncGenerator<Bool, Void> { yield in
        try await yield(executor.isCurrent)
        await Task.yield()
        try await yield(executor.isCurrent)
      }
      let first = try await withTaskExecutorPreference(executor) { try await g.next() }
      // The preference belongs to the body's task: a later call from elsewhere keeps it.
      let second = try await g.next()
      #expect(first == true)
      #expect(second == true)
      #expect(try await g.next() == nil)
    }
  }

  @Test("SPEC 3.10: without a preference the body does not run on a custom executor")
  func noPreferenceNoCustomExecutor() async throws {
    try await withDeadline { () async throws in
      let executor = QueueExecutor()
      let g = AsyncGenerator<Bool, Void> { yield in
        try await yield(executor.isCurrent)
      }
      #expect(try await g.next() == false)
    }
  }

  @Test("SPEC 2, 3.10: a @MainActor body touches main-actor state; a nonisolated consumer")
  func mainActorBodyNonisolatedConsumer() async throws {
    try await withDeadline { () async throws in
      let counter = MainCounter()
      let g = AsyncGenerator<Int, Void> { @MainActor yield in
        MainActor.assertIsolated()
        for _ in 0..<3 {
          counter.value += 1
          try await yield(counter.value)
          MainActor.assertIsolated()
        }
      }
      var got: [Int] = []
      for try await x in g { got.append(x) }
      #expect(got == [1, 2, 3])
      #expect(await counter.value == 3)
    }
  }

  @Test("SPEC 2, 3.10: a @MainActor body and a @MainActor consumer share main-actor state")
  func mainActorBodyMainActorConsumer() async throws {
    try await withDeadline { @MainActor () async throws in
      let counter = MainCounter()
      let g = AsyncGenerator<Int, Int> { @MainActor yield in
        var total = 0
        while true {
          counter.value += 1
          if let n = try await yield(total) { total += n }
        }
      }
      #expect(try await g.next() == 0)
      counter.value += 100
      #expect(try await g.send(5) == 5)
      #expect(try await g.send(7) == 12)
      #expect(counter.value == 103)
      try await g.close()
      #expect(g.state == .closed)
    }
  }
}

private enum Trace {
  @TaskLocal static var id: String?
}

@MainActor
private final class MainCounter {
  var value = 0
}

/// A task executor backed by a serial dispatch queue, which can tell whether code runs on it.
private final class QueueExecutor: TaskExecutor, @unchecked Sendable {
  private let queue = DispatchQueue(label: "QueueExecutor")
  private let key = DispatchSpecificKey<Bool>()

  init() {
    queue.setSpecific(key: key, value: true)
  }

  func enqueue(_ job: consuming ExecutorJob) {
    let job = UnownedJob(job)
    queue.async {
      job.runSynchronously(on: self.asUnownedTaskExecutor())
    }
  }

  var isCurrent: Bool {
    DispatchQueue.getSpecific(key: key) == true
  }
}
