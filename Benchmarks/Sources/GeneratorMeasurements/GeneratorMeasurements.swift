// The figures package-benchmark does not fit: time per element with a free cooperative pool,
// process CPU of a slow consumer, memory per suspended generator, and the time to shut many of
// them down. Prints a table and writes JSON.
//
//   swift run -c release GeneratorMeasurements [--quick] [--json results/measurements.json]
//
// Time per element is measured here, not by package-benchmark, because package-benchmark runs an
// async benchmark by blocking a thread on a semaphore, and on Linux that thread is one of the
// cooperative pool's (2 of them on 2 CPUs): the generator's body and its consumer then share the
// one thread left, and every handoff parks. Here nothing blocks a pool thread: `run()` only
// awaits, and each consumer runs in a plain `Task.detached` on the default executor.
import ArgumentParser
import AsyncGenerators
import BenchmarkWorkloads
import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

@main
struct GeneratorMeasurements: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract:
      "Time per element, memory, shutdown and slow-consumer CPU figures of swift-async-generators.",
    discussion: """
      time per element: each workload moves N elements to a consumer in a Task.detached on the \
      default executor (no pool thread blocked); one warm-up run, then the runs, the workloads \
      taking turns; median and min of wall-clock time / N.
      slow consumer: process CPU (user + system, getrusage) while a consumer awaits \
      Task.sleep after each element, fed by a generator vs. by an unbounded \
      AsyncThrowingStream (medians of the repeats, runs alternating).
      memory: C-heap bytes in use (mallinfo2) and resident bytes, before vs. after creating \
      the generators and starting each (body parked at its first yield), divided by the count.
      shutdown: time from the end of a withAsyncGeneratorScope body holding that many \
      suspended generators to the scope's return; and time to close as many concurrently \
      (one child task each).
      """
  )

  @Option(help: "Suspended generators for the memory and shutdown figures.")
  var generators = 100_000

  @Option(help: "Elements the slow consumer takes.")
  var slowElements = 2_000

  @Option(help: "Microseconds the slow consumer sleeps after each element.")
  var slowPauseMicroseconds = 200

  @Option(help: "Runs of each slow consumer (the median is reported); default 5, 3 with --quick.")
  var repeats: Int?

  @Option(help: "Elements per time-per-element run; default 1,000,000, 20,000 with --quick.")
  var elements: Int?

  @Option(
    help: "Generator lives per create + first next + close run; default 1,000, 100 with --quick.")
  var lives: Int?

  @Option(help: "Timed runs of each time-per-element workload; default 11, 5 with --quick.")
  var runs: Int?

  @Option(help: "Only the time-per-element workloads whose name contains this text.")
  var filter: String?

  @Flag(help: "Only the time-per-element figures (no slow consumer, memory or shutdown).")
  var elementRatesOnly = false

  @Flag(help: "Fewer repeats and elements (for CI).")
  var quick = false

  @Option(help: "Write the figures as JSON to this file.")
  var json: String?

  mutating func run() async throws {
    let repeats = max(1, self.repeats ?? (quick ? 3 : 5))

    // A warm-up: the runtime's first tasks and the library's first generators.
    _ = try await Workloads.createFirstClose(1_000)
    _ = try await Workloads.throwingStream(1_000)

    var slow: SlowConsumer?
    var memory: Memory?
    var shutdown: Shutdown?
    if !elementRatesOnly {
      slow = try await measureSlowConsumer(repeats: repeats)
      memory = try await measureMemory()
      shutdown = try await measureScopeShutdown()
    }
    // Last, so that the memory figures start from the same heap as before these were added.
    let rates = try await measureElementRates(
      elements: max(1, elements ?? (quick ? 20_000 : 1_000_000)),
      lives: max(1, lives ?? (quick ? 100 : 1_000)),
      runs: max(1, runs ?? (quick ? 5 : 11)))

    let report = Report(
      generators: generators, elementRates: rates, slowConsumer: slow, memory: memory,
      shutdown: shutdown)
    print(report.table)
    if let json {
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
      try encoder.encode(report).write(to: URL(fileURLWithPath: json))
      print("wrote \(json)")
    }
  }

  // MARK: time per element

  /// Times every workload of ``RateWorkload/all(elements:lives:)``: one warm-up run each, then
  /// `runs` rounds in which the workloads take turns (so a busy spell of the shared machine is
  /// spread over all of them rather than falling on one).
  func measureElementRates(elements: Int, lives: Int, runs: Int) async throws -> [ElementRate] {
    let workloads = RateWorkload.all(elements: elements, lives: lives).filter {
      filter.map($0.name.contains) ?? true
    }
    for workload in workloads {
      _ = try await workload.timeOnce()
      await waitForBodyTasks()
    }
    var samples = Array(repeating: [Double](), count: workloads.count)
    for _ in 0..<runs {
      for (index, workload) in workloads.enumerated() {
        samples[index].append(try await workload.timeOnce())
        await waitForBodyTasks()
      }
    }
    return zip(workloads, samples).map { workload, nanoseconds in
      ElementRate(
        workload: workload.name, elements: workload.elements, runs: runs,
        medianNanosecondsPerElement: median(nanoseconds),
        minNanosecondsPerElement: nanoseconds.min() ?? .nan,
        runNanosecondsPerElement: nanoseconds)
    }
  }

  // MARK: slow consumer

  func measureSlowConsumer(repeats: Int) async throws -> SlowConsumer {
    let pause = Duration.microseconds(slowPauseMicroseconds)
    var ours: [Run] = []
    var stream: [Run] = []
    for _ in 0..<repeats {
      ours.append(
        try await Run.measure {
          try await Workloads.slowConsumerOfGenerator(elements: slowElements, pause: pause)
        })
      await waitForBodyTasks()
      stream.append(
        try await Run.measure {
          try await Workloads.slowConsumerOfStream(elements: slowElements, pause: pause)
        })
    }
    let oursCPU = median(ours.map(\.cpuSeconds))
    let streamCPU = median(stream.map(\.cpuSeconds))
    return SlowConsumer(
      elements: slowElements, pauseMicroseconds: slowPauseMicroseconds, repeats: repeats,
      generatorCPUSeconds: oursCPU, streamCPUSeconds: streamCPU,
      generatorWallSeconds: median(ours.map(\.wallSeconds)),
      streamWallSeconds: median(stream.map(\.wallSeconds)),
      cpuRatio: streamCPU > 0 ? oursCPU / streamCPU : .nan,
      extraCPUMicrosecondsPerElement: (oursCPU - streamCPU) * 1e6 / Double(slowElements),
      generatorRuns: ours, streamRuns: stream)
  }

  // MARK: memory, and closing concurrently

  func measureMemory() async throws -> Memory {
    await waitForBodyTasks()
    var suspended: [AsyncGenerator<Int, Void>] = []
    suspended.reserveCapacity(generators)
    let heapBefore = ProcessStats.heapBytesInUse
    let residentBefore = ProcessStats.residentBytes
    try await Workloads.appendSuspendedGenerators(generators, to: &suspended)
    let heapAfter = ProcessStats.heapBytesInUse
    let residentAfter = ProcessStats.residentBytes
    let liveBodies = AsyncGeneratorDiagnostics.liveBodyTasks

    let start = ContinuousClock.now
    await Workloads.closeConcurrently(suspended)
    let closeTime = start.duration(to: .now)
    suspended = []
    await waitForBodyTasks()

    return Memory(
      heapBytesPerGenerator: Double(heapAfter - heapBefore) / Double(generators),
      residentBytesPerGenerator: Double(residentAfter - residentBefore) / Double(generators),
      liveBodyTasksWhileSuspended: liveBodies,
      concurrentCloseSeconds: closeTime.seconds)
  }

  // MARK: scope shutdown

  func measureScopeShutdown() async throws -> Shutdown {
    var suspended: [AsyncGenerator<Int, Void>] = []
    suspended.reserveCapacity(generators)
    var tracked = 0
    var bodyEnded = ContinuousClock.now
    try await withAsyncGeneratorScope { scope in
      try await Workloads.appendSuspendedGenerators(generators, to: &suspended)
      tracked = scope.liveGenerators
      bodyEnded = .now
    }
    let scopeTime = bodyEnded.duration(to: .now)
    let open = suspended.filter { $0.state != .closed }.count
    suspended = []
    await waitForBodyTasks()
    return Shutdown(
      scopeExitSeconds: scopeTime.seconds, trackedAtExit: tracked, stillOpenAfterExit: open)
  }

  /// Waits (up to 10 s) until no body task is left, so one figure does not pay for another's.
  func waitForBodyTasks() async {
    let deadline = ContinuousClock.now + .seconds(10)
    while AsyncGeneratorDiagnostics.liveBodyTasks > 0, ContinuousClock.now < deadline {
      try? await Task.sleep(for: .milliseconds(1))
    }
  }
}

// MARK: figures

/// One time-per-element workload: `run(n)` moves `n` elements (or, for create + first next +
/// close, goes through `n` generator lives) and returns the consumer's sum and the time the
/// measured part took.
struct RateWorkload: Sendable {
  /// The name of the package-benchmark benchmark that runs the same workload.
  var name: String
  var elements: Int
  var expectedSum: Int
  var run: @Sendable (Int) async throws -> (sum: Int, time: Duration)

  /// Times the whole of `work(n)`.
  init(
    _ name: String, elements: Int, expectedSum: Int,
    _ work: @escaping @Sendable (Int) async throws -> Int
  ) {
    self.init(name, elements: elements, expectedSum: expectedSum) { n in
      let start = ContinuousClock.now
      let sum = try await work(n)
      return (sum, start.duration(to: .now))
    }
  }

  init(
    _ name: String, elements: Int, expectedSum: Int,
    timing run: @escaping @Sendable (Int) async throws -> (sum: Int, time: Duration)
  ) {
    self.name = name
    self.elements = elements
    self.expectedSum = expectedSum
    self.run = run
  }

  /// One run in a plain detached task on the default executor (the caller only awaits it):
  /// nanoseconds per element.
  func timeOnce() async throws -> Double {
    let (n, run) = (elements, self.run)
    let (sum, time) = try await Task.detached { try await run(n) }.value
    guard sum == expectedSum else {
      throw ValidationError("\(name): sum \(sum), expected \(expectedSum)")
    }
    return time.seconds * 1e9 / Double(n)
  }

  /// The workloads, named as in `Benchmarks/GeneratorBenchmarks/GeneratorBenchmarks.swift`.
  static func all(elements n: Int, lives: Int) -> [RateWorkload] {
    let zeroTo = n * (n - 1) / 2  // 0 + 1 + ... + (n - 1)
    let oneTo = n * (n + 1) / 2  // 1 + 2 + ... + n
    return [
      RateWorkload("generator for-await", elements: n, expectedSum: zeroTo) {
        try await Workloads.generatorForAwait($0)
      },
      RateWorkload("generator send ping-pong", elements: n, expectedSum: zeroTo) {
        try await Workloads.sendPingPong($0)
      },
      RateWorkload("generator throw caught", elements: n, expectedSum: oneTo) {
        try await Workloads.throwCaught($0)
      },
      RateWorkload("generator create+next+close", elements: lives, expectedSum: 0) {
        try await Workloads.createFirstClose($0)
      },
      // Created and started before the clock starts, closed after it stops: `next()` alone.
      RateWorkload("generator steady-state next", elements: n, expectedSum: oneTo) { n in
        let generator = Workloads.forever()
        _ = try await generator.next()
        let start = ContinuousClock.now
        let sum = try await Workloads.steadyStateNext(n, of: generator)
        let time = start.duration(to: .now)
        try await generator.close()
        return (sum, time)
      },
      RateWorkload("generator prefetching(64) for-await", elements: n, expectedSum: zeroTo) {
        try await Workloads.generatorPrefetching($0, count: 64)
      },
      RateWorkload("AsyncThrowingStream for-await", elements: n, expectedSum: zeroTo) {
        try await Workloads.throwingStream($0)
      },
      RateWorkload("AsyncChannel for-await", elements: n, expectedSum: zeroTo) {
        await Workloads.channel($0)
      },
      RateWorkload("hand-written iterator for-await", elements: n, expectedSum: zeroTo) {
        await Workloads.handWrittenIterator($0)
      },
    ]
  }
}

struct ElementRate: Codable {
  /// The name of the package-benchmark benchmark that runs the same workload.
  var workload: String
  /// Elements (generator lives, for create + first next + close) per run.
  var elements: Int
  var runs: Int
  var medianNanosecondsPerElement: Double
  var minNanosecondsPerElement: Double
  /// Each timed run, in the order run.
  var runNanosecondsPerElement: [Double]
}

struct Run: Codable {
  var cpuSeconds: Double
  var wallSeconds: Double

  static func measure(_ work: () async throws -> Int) async throws -> Run {
    let cpuBefore = processCPUSeconds()
    let start = ContinuousClock.now
    let sum = try await work()
    let wall = start.duration(to: .now)
    let cpuAfter = processCPUSeconds()
    precondition(sum >= 0)
    return Run(cpuSeconds: cpuAfter - cpuBefore, wallSeconds: wall.seconds)
  }
}

struct SlowConsumer: Codable {
  var elements: Int
  var pauseMicroseconds: Int
  var repeats: Int
  var generatorCPUSeconds: Double
  var streamCPUSeconds: Double
  var generatorWallSeconds: Double
  var streamWallSeconds: Double
  /// Generator CPU / stream CPU (SPEC section 6: at most 1.5).
  var cpuRatio: Double
  var extraCPUMicrosecondsPerElement: Double
  var generatorRuns: [Run]
  var streamRuns: [Run]
}

struct Memory: Codable {
  var heapBytesPerGenerator: Double
  var residentBytesPerGenerator: Double
  var liveBodyTasksWhileSuspended: Int
  var concurrentCloseSeconds: Double
}

struct Shutdown: Codable {
  var scopeExitSeconds: Double
  var trackedAtExit: Int
  var stillOpenAfterExit: Int
}

struct Report: Codable {
  var generators: Int
  /// Time per element, consumer in a `Task.detached` (the pool free).
  var elementRates: [ElementRate]
  var slowConsumer: SlowConsumer?
  var memory: Memory?
  var shutdown: Shutdown?

  var table: String {
    func f(_ value: Double, _ digits: Int = 0) -> String { String(format: "%.\(digits)f", value) }
    func pad(_ text: String, _ width: Int, right: Bool = false) -> String {
      let padding = String(repeating: " ", count: max(0, width - text.count))
      return right ? padding + text : text + padding
    }
    var lines: [String] = []
    if let first = elementRates.first {
      let headers = ["time per element (consumer in Task.detached)", "median ns", "min ns", "N"]
      let rows = elementRates.map {
        [
          $0.workload, f($0.medianNanosecondsPerElement, 1), f($0.minNanosecondsPerElement, 1),
          "\($0.elements)",
        ]
      }
      let widths = headers.indices.map { column in
        ([headers] + rows).map { $0[column].count }.max() ?? 0
      }
      for row in [headers] + rows {
        lines.append(
          row.indices.map { pad(row[$0], widths[$0], right: $0 > 0) }.joined(separator: "  "))
      }
      lines.append("(median and min of \(first.runs) runs after one warm-up run each)")
    }
    guard let slowConsumer, let memory, let shutdown else {
      return lines.joined(separator: "\n")
    }
    if !lines.isEmpty { lines.append("") }
    let s = slowConsumer
    let rows: [(String, String)] = [
      (
        "slow consumer CPU, generator / AsyncThrowingStream",
        "\(f(s.cpuRatio, 2))x  (\(f(s.generatorCPUSeconds * 1e3, 1)) ms / \(f(s.streamCPUSeconds * 1e3, 1)) ms; \(s.elements) elements, \(s.pauseMicroseconds) us pauses, median of \(s.repeats))"
      ),
      ("slow consumer extra CPU per element", "\(f(s.extraCPUMicrosecondsPerElement, 2)) us"),
      (
        "heap bytes per suspended generator",
        "\(f(memory.heapBytesPerGenerator)) B  (over \(generators))"
      ),
      ("resident bytes per suspended generator", "\(f(memory.residentBytesPerGenerator)) B"),
      ("body tasks alive while suspended", "\(memory.liveBodyTasksWhileSuspended)"),
      (
        "close \(generators) concurrently (task group)",
        "\(f(memory.concurrentCloseSeconds * 1e3, 1)) ms"
      ),
      (
        "withAsyncGeneratorScope exit, \(generators) suspended",
        "\(f(shutdown.scopeExitSeconds * 1e3, 1)) ms  (tracked \(shutdown.trackedAtExit), open after \(shutdown.stillOpenAfterExit))"
      ),
    ]
    let width = rows.map(\.0.count).max() ?? 0
    lines += rows.map { pad($0.0, width) + "  " + $0.1 }
    return lines.joined(separator: "\n")
  }
}

func median(_ values: [Double]) -> Double {
  let sorted = values.sorted()
  guard !sorted.isEmpty else { return .nan }
  let middle = sorted.count / 2
  return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

/// User + system CPU time of the whole process so far.
func processCPUSeconds() -> Double {
  var usage = rusage()
  #if os(Linux)
    getrusage(RUSAGE_SELF.rawValue, &usage)
  #else
    getrusage(RUSAGE_SELF, &usage)
  #endif
  func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
  return seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

extension Duration {
  var seconds: Double {
    let (s, attoseconds) = components
    return Double(s) + Double(attoseconds) / 1e18
  }
}
