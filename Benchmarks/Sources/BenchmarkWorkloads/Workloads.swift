import AsyncAlgorithms
import AsyncGenerators
import CMallocStats

/// The workloads the benchmarks and the measurements run, each written once here.
///
/// Every element workload moves `n` `Int`s (0, 1, ..., n - 1) from a producer to a consumer that
/// adds them up, and returns the sum, so that nothing can be optimized away. Each one is the
/// Swift twin of a CPython workload in `python/async_generator_workloads.py`: keep the two in
/// step. None of them installs hooks or a scope, as a plain user's code would not.
public enum Workloads {
  /// The yield-only body of CPython's `async def gen(): for i in range(n): yield i`.
  public static func counter(_ n: Int) -> AsyncGenerator<Int, Void> {
    AsyncGenerator { yield in
      for i in 0..<n {
        try await yield(i)
      }
    }
  }

  /// A body that yields 0, 1, 2, ... until it is closed (CPython: `forever()`).
  public static func forever() -> AsyncGenerator<Int, Void> {
    AsyncGenerator { yield in
      var i = 0
      while true {
        try await yield(i)
        i &+= 1
      }
    }
  }

  /// `for try await` over a yield-only generator (CPython: `async for x in gen(n)`).
  public static func generatorForAwait(_ n: Int) async throws -> Int {
    var sum = 0
    for try await x in counter(n) {
      sum &+= x
    }
    return sum
  }

  /// `n` round trips of `send`: the body yields back what it was sent (CPython: `asend`
  /// ping-pong with `v = yield v`). The generator is started with `next()` and closed after.
  public static func sendPingPong(_ n: Int) async throws -> Int {
    let echo = AsyncGenerator<Int, Int> { yield in
      var last = 0
      while true {
        last = try await yield(last) ?? 0
      }
    }
    var sum = try await echo.next() ?? 0
    for i in 0..<n {
      sum &+= try await echo.send(i) ?? 0
    }
    try await echo.close()
    return sum
  }

  /// The error thrown into the body by ``throwCaught(_:)``.
  public struct Boom: Error {
    public init() {}
  }

  /// `n` calls of `throw(Boom())`, each caught by the body, which yields again (CPython:
  /// `athrow(Boom())` caught by `except Boom`). Started with `next()`, closed after.
  public static func throwCaught(_ n: Int) async throws -> Int {
    let catcher = AsyncGenerator<Int, Void> { yield in
      var i = 0
      while true {
        do {
          try await yield(i)
        } catch is Boom {
          i &+= 1
        }
      }
    }
    var sum = try await catcher.next() ?? 0
    for _ in 0..<n {
      sum &+= try await catcher.throw(Boom()) ?? 0
    }
    try await catcher.close()
    return sum
  }

  /// `n` times: create a generator, take its first element, close it (CPython: `forever()`,
  /// `__anext__()`, `aclose()`). One element is one whole generator life, body task included.
  public static func createFirstClose(_ n: Int) async throws -> Int {
    var sum = 0
    for _ in 0..<n {
      let generator = forever()
      sum &+= try await generator.next() ?? 0
      try await generator.close()
    }
    return sum
  }

  /// `n` calls of `next()` on a generator that is already started (its body parked at a
  /// `yield`, e.g. ``forever()`` after one `next()`): the handoffs alone, no creation or close.
  public static func steadyStateNext(_ n: Int, of generator: AsyncGenerator<Int, Void>)
    async throws -> Int
  {
    var sum = 0
    for _ in 0..<n {
      sum &+= try await generator.next() ?? 0
    }
    return sum
  }

  /// The same elements through an unbounded `AsyncThrowingStream`, the producer in a task of
  /// its own (it runs ahead of the consumer, as a stream allows).
  public static func throwingStream(_ n: Int) async throws -> Int {
    let (stream, continuation) = AsyncThrowingStream<Int, any Error>.makeStream()
    let producer = Task {
      for i in 0..<n {
        continuation.yield(i)
      }
      continuation.finish()
    }
    var sum = 0
    for try await x in stream {
      sum &+= x
    }
    await producer.value
    return sum
  }

  /// The same elements through swift-async-algorithms' `AsyncChannel` (a rendezvous: each
  /// `send` waits for the consumer), the producer in a task of its own.
  public static func channel(_ n: Int) async -> Int {
    let channel = AsyncChannel<Int>()
    let producer = Task {
      for i in 0..<n {
        await channel.send(i)
      }
      channel.finish()
    }
    var sum = 0
    for await x in channel {
      sum &+= x
    }
    await producer.value
    return sum
  }

  /// The same elements from a hand-written `AsyncIteratorProtocol` whose `next()` never
  /// suspends (the floor: what `for await` itself costs).
  public static func handWrittenIterator(_ n: Int) async -> Int {
    var sum = 0
    for await x in CountingSequence(count: n) {
      sum &+= x
    }
    return sum
  }

  /// A slow consumer: `elements` elements of a yield-only generator, awaiting
  /// `Task.sleep(for: pause)` after each.
  public static func slowConsumerOfGenerator(elements: Int, pause: Duration) async throws -> Int {
    var sum = 0
    for try await x in counter(elements) {
      sum &+= x
      try await Task.sleep(for: pause)
    }
    return sum
  }

  /// The same slow consumer fed by an unbounded `AsyncThrowingStream` (producer in its own task).
  public static func slowConsumerOfStream(elements: Int, pause: Duration) async throws -> Int {
    let (stream, continuation) = AsyncThrowingStream<Int, any Error>.makeStream()
    let producer = Task {
      for i in 0..<elements {
        continuation.yield(i)
      }
      continuation.finish()
    }
    var sum = 0
    for try await x in stream {
      sum &+= x
      try await Task.sleep(for: pause)
    }
    await producer.value
    return sum
  }

  /// Creates `n` generators (``forever()``) and takes the first element of each, so that every
  /// body is parked at its first `yield`: `n` suspended generators.
  public static func suspendedGenerators(_ n: Int) async throws -> [AsyncGenerator<Int, Void>] {
    var generators: [AsyncGenerator<Int, Void>] = []
    generators.reserveCapacity(n)
    try await appendSuspendedGenerators(n, to: &generators)
    return generators
  }

  /// Appends `n` suspended generators to `generators` (which should have the capacity).
  public static func appendSuspendedGenerators(
    _ n: Int, to generators: inout [AsyncGenerator<Int, Void>]
  ) async throws {
    for _ in 0..<n {
      let generator = forever()
      _ = try await generator.next()
      generators.append(generator)
    }
  }

  /// Closes all of `generators` concurrently, one child task each, and waits for all.
  public static func closeConcurrently(_ generators: [AsyncGenerator<Int, Void>]) async {
    await withTaskGroup(of: Void.self) { group in
      for generator in generators {
        group.addTask { try? await generator.close() }
      }
    }
  }

  // prefetching(64): the body may run up to 64 elements ahead (SPEC.md section 6).
  /// `for try await` over a yield-only generator through `prefetching(count)`: the body may
  /// run up to `count` elements ahead of the consumer (compared with CPython's `async for`).
  public static func generatorPrefetching(_ n: Int, count: Int) async throws -> Int {
    var sum = 0
    for try await x in counter(n).prefetching(count) {
      sum &+= x
    }
    return sum
  }
}

/// A sequence of 0..<count whose iterator's `next()` never suspends and is not inlined.
public struct CountingSequence: AsyncSequence, Sendable {
  public typealias Element = Int
  public typealias Failure = Never

  let count: Int

  public init(count: Int) {
    self.count = count
  }

  public func makeAsyncIterator() -> AsyncIterator {
    AsyncIterator(count: count)
  }

  public struct AsyncIterator: AsyncIteratorProtocol {
    var current = 0
    let count: Int

    @inline(never)
    public mutating func next() async -> Int? {
      guard current < count else { return nil }
      defer { current += 1 }
      return current
    }
  }
}

/// Process figures read through the C library.
public enum ProcessStats {
  /// Bytes the C heap has handed out and not taken back (glibc `mallinfo2`), 0 if unknown.
  public static var heapBytesInUse: Int {
    Int(cms_heap_bytes_in_use())
  }

  /// Resident set size in bytes, 0 if unknown.
  public static var residentBytes: Int {
    Int(cms_resident_bytes())
  }
}
