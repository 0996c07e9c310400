// swift-tools-version: 6.1
// The benchmarks of swift-async-generators: a package of their own, depending on the library by
// path, so that the library's users never resolve package-benchmark, swift-async-algorithms or
// swift-argument-parser. How to run them and what each figure means: README.md beside this file.
import PackageDescription

let package = Package(
  name: "swift-async-generators-benchmarks",
  platforms: [.macOS(.v15)],
  dependencies: [
    .package(name: "swift-async-generators", path: ".."),
    // package-benchmark. Naming the trait list replaces its default traits: "RuntimeInterposer"
    // (ARC counters on Linux + Swift 6.3) stays off, so its dependency is never resolved.
    .package(
      url: "https://github.com/ordo-one/benchmark", exact: "1.38.1", traits: ["MallocInterposer"]),
    .package(url: "https://github.com/apple/swift-async-algorithms", exact: "1.1.4"),
    .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
  ],
  targets: [
    // The workloads, shared by the package-benchmark suite and the measurements executable.
    .target(
      name: "BenchmarkWorkloads",
      dependencies: [
        .product(name: "AsyncGenerators", package: "swift-async-generators"),
        .product(name: "AsyncAlgorithms", package: "swift-async-algorithms"),
        "CMallocStats",
      ]
    ),
    // mallinfo2() is not visible through Glibc's Swift module: a two-function C shim.
    .target(name: "CMallocStats"),
    // Memory per suspended generator, shutdown of many, slow-consumer CPU: prints a table and
    // writes JSON (see `swift run -c release GeneratorMeasurements --help`).
    .executableTarget(
      name: "GeneratorMeasurements",
      dependencies: [
        "BenchmarkWorkloads",
        .product(name: "AsyncGenerators", package: "swift-async-generators"),
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]
    ),
    // Time and mallocs per element (`swift package benchmark`).
    .executableTarget(
      name: "GeneratorBenchmarks",
      dependencies: [
        "BenchmarkWorkloads",
        .product(name: "AsyncGenerators", package: "swift-async-generators"),
        .product(name: "Benchmark", package: "benchmark"),
      ],
      path: "Benchmarks/GeneratorBenchmarks",
      plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
    ),
  ],
  swiftLanguageModes: [.v6]
)
