// The figures package-benchmark does not fit: process CPU of a slow consumer, memory per
// suspended generator, and the time to shut many of them down. Prints a table and writes JSON.
//
//   swift run -c release GeneratorMeasurements [--quick] [--json results/measurements.json]
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
    abstract: "Memory, shutdown and slow-consumer CPU figures of swift-async-generators.",
    discussion: """
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

  @Flag(help: "Fewer repeats (for CI).")
  var quick = false

  @Option(help: "Write the figures as JSON to this file.")
  var json: String?

  mutating func run() async throws {
    let repeats = max(1, self.repeats ?? (quick ? 3 : 5))

    // A warm-up: the runtime's first tasks and the library's first generators.
    _ = try await Workloads.createFirstClose(1_000)
    _ = try await Workloads.throwingStream(1_000)

    let slow = try await measureSlowConsumer(repeats: repeats)
    let memory = try await measureMemory()
    let shutdown = try await measureScopeShutdown()

    let report = Report(
      generators: generators, slowConsumer: slow, memory: memory, shutdown: shutdown)
    print(report.table)
    if let json {
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
      try encoder.encode(report).write(to: URL(fileURLWithPath: json))
      print("wrote \(json)")
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
  var slowConsumer: SlowConsumer
  var memory: Memory
  var shutdown: Shutdown

  var table: String {
    func f(_ value: Double, _ digits: Int = 0) -> String { String(format: "%.\(digits)f", value) }
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
    return rows.map { $0.0.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + $0.1 }
      .joined(separator: "\n")
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
