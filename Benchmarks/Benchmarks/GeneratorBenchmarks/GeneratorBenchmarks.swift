// Mallocs (and time) per element of an AsyncGenerator, and of the alternatives, measured by
// package-benchmark (`swift package benchmark`; README.md beside Package.swift).
//
// Each benchmark iteration moves a fixed N elements (N is in the benchmark's name as the tag
// "elements", and is its scaling factor, so the plugin's scaled text output is per element).
// Exported raw figures (`--format jmh`) are per iteration: divide by N, as compare.sh does.
//
// compare.sh takes only the mallocs from here. The benchmark closure runs in a plain `Task {}`,
// but package-benchmark waits for it by blocking a thread on a semaphore, and on Linux that is a
// cooperative-pool thread: with 2 CPUs the body and the consumer share the one pool thread left,
// so every handoff parks, and the time figures are not the element rate of a free pool. That
// rate (the one SPEC.md section 6's bars are about) comes from GeneratorMeasurements, where the
// consumer runs in a `Task.detached` and nothing blocks a pool thread. Same workloads, same names.
//
// GENERATOR_BENCH_QUICK=1 (compare.sh --quick) runs N = 1,000 elements and short runs; without it
// N = 1,000,000 (1,000 generator lives for "create + first next + close").
import AsyncGenerators
import Benchmark
import BenchmarkWorkloads

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

let benchmarks: @Sendable () -> Void = {
  let quick = getenv("GENERATOR_BENCH_QUICK").map { String(cString: $0) != "0" } ?? false

  // Every benchmark has the same metrics: the JMH export needs `.throughput`, and mixing
  // metric sets between benchmarks garbles that export's secondary metrics.
  let metrics: [BenchmarkMetric] = [.wallClock, .throughput, .mallocCountTotal]

  func configuration(_ scaling: BenchmarkScalingFactor) -> Benchmark.Configuration {
    .init(
      metrics: metrics,
      tags: ["elements": String(scaling.rawValue)],
      timeUnits: .nanoseconds,
      warmupIterations: 1,
      scalingFactor: scaling,
      maxDuration: quick ? .milliseconds(500) : .seconds(5),
      maxIterations: quick ? 200 : 10
    )
  }

  let elements: BenchmarkScalingFactor = quick ? .kilo : .mega
  let lives: BenchmarkScalingFactor = .kilo

  // Ours.
  Benchmark("generator for-await", configuration: configuration(elements)) { benchmark in
    blackHole(try await Workloads.generatorForAwait(benchmark.scaledIterations.count))
  }
  Benchmark("generator send ping-pong", configuration: configuration(elements)) { benchmark in
    blackHole(try await Workloads.sendPingPong(benchmark.scaledIterations.count))
  }
  Benchmark("generator throw caught", configuration: configuration(elements)) { benchmark in
    blackHole(try await Workloads.throwCaught(benchmark.scaledIterations.count))
  }
  Benchmark("generator create+next+close", configuration: configuration(lives)) { benchmark in
    blackHole(try await Workloads.createFirstClose(benchmark.scaledIterations.count))
  }
  // Steady state: the generator is created and started before the measurement starts and closed
  // after it ends, so time and mallocs are those of `next()` alone.
  Benchmark("generator steady-state next", configuration: configuration(elements)) { benchmark in
    let generator = Workloads.forever()
    _ = try await generator.next()
    var sum = 0
    benchmark.startMeasurement()
    for _ in benchmark.scaledIterations {
      sum &+= try await generator.next() ?? 0
    }
    benchmark.stopMeasurement()
    blackHole(sum)
    try await generator.close()
  }

  // The alternatives, same elements.
  Benchmark("AsyncThrowingStream for-await", configuration: configuration(elements)) { benchmark in
    blackHole(try await Workloads.throwingStream(benchmark.scaledIterations.count))
  }
  Benchmark("AsyncChannel for-await", configuration: configuration(elements)) { benchmark in
    blackHole(await Workloads.channel(benchmark.scaledIterations.count))
  }
  Benchmark("hand-written iterator for-await", configuration: configuration(elements)) {
    benchmark in
    blackHole(await Workloads.handWrittenIterator(benchmark.scaledIterations.count))
  }

  // prefetching(64): the body may run up to 64 elements ahead (SPEC.md section 6).
  Benchmark("generator prefetching(64) for-await", configuration: configuration(elements)) {
    benchmark in
    blackHole(
      try await Workloads.generatorPrefetching(benchmark.scaledIterations.count, count: 64))
  }
}
