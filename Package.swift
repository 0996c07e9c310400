// swift-tools-version: 6.0
import PackageDescription

let package = Package(
  name: "swift-async-generators",
  platforms: [.macOS(.v15), .iOS(.v18), .tvOS(.v18), .watchOS(.v11), .visionOS(.v2)],
  products: [
    .library(name: "AsyncGenerators", targets: ["AsyncGenerators"]),
    .executable(name: "async-generator-examples", targets: ["AsyncGeneratorExamples"]),
    .executable(name: "async-generator-scenarios", targets: ["AsyncGeneratorScenarios"]),
  ],
  targets: [
    .target(name: "AsyncGenerators"),
    .executableTarget(name: "AsyncGeneratorExamples", dependencies: ["AsyncGenerators"]),
    // The conformance oracle's interpreter, shared by its executable and the fixture tests.
    .target(name: "ScenarioRunner", dependencies: ["AsyncGenerators"]),
    .executableTarget(name: "AsyncGeneratorScenarios", dependencies: ["ScenarioRunner"]),
    .testTarget(name: "AsyncGeneratorsTests", dependencies: ["AsyncGenerators"]),
    .testTarget(name: "ScenarioRunnerTests", dependencies: ["ScenarioRunner"]),
  ],
  swiftLanguageModes: [.v6]
)
