// swift-tools-version: 6.0
import PackageDescription

let package = Package(
  name: "swift-async-generators",
  platforms: [.macOS(.v15), .iOS(.v18), .tvOS(.v18), .watchOS(.v11), .visionOS(.v2)],
  products: [
    .library(name: "AsyncGenerators", targets: ["AsyncGenerators"]),
    .executable(name: "async-generator-examples", targets: ["AsyncGeneratorExamples"]),
    .executable(name: "async-generator-scenarios", targets: ["AsyncGeneratorScenarios"]),
    .executable(name: "async-generator-stress", targets: ["AsyncGeneratorStress"]),
  ],
  dependencies: [
    // Only for `swift package generate-documentation`; no target depends on it.
    .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0")
  ],
  targets: [
    .target(name: "AsyncGenerators", dependencies: ["CAsyncGeneratorsRuntime"]),
    // Two runtime entry points, reached without the retain/release of the public APIs.
    .target(name: "CAsyncGeneratorsRuntime"),
    .executableTarget(name: "AsyncGeneratorExamples", dependencies: ["AsyncGenerators"]),
    // The conformance oracle's interpreter, shared by its executable and the fixture tests.
    .target(name: "ScenarioRunner", dependencies: ["AsyncGenerators"]),
    .executableTarget(name: "AsyncGeneratorScenarios", dependencies: ["ScenarioRunner"]),
    // Random calls, drops and cancellations on shared generators, checked (StressEngine.swift).
    .executableTarget(name: "AsyncGeneratorStress", dependencies: ["AsyncGenerators"]),
    .testTarget(name: "AsyncGeneratorsTests", dependencies: ["AsyncGenerators"]),
    .testTarget(name: "ScenarioRunnerTests", dependencies: ["ScenarioRunner"]),
  ],
  swiftLanguageModes: [.v6]
)
