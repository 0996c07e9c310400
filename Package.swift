// swift-tools-version: 6.0
import PackageDescription

let package = Package(
  name: "swift-async-generators",
  platforms: [.macOS(.v15), .iOS(.v18), .tvOS(.v18), .watchOS(.v11), .visionOS(.v2)],
  products: [
    .library(name: "AsyncGenerators", targets: ["AsyncGenerators"]),
    .executable(name: "async-generator-examples", targets: ["AsyncGeneratorExamples"]),
  ],
  targets: [
    .target(name: "AsyncGenerators"),
    .executableTarget(name: "AsyncGeneratorExamples", dependencies: ["AsyncGenerators"]),
    .testTarget(name: "AsyncGeneratorsTests", dependencies: ["AsyncGenerators"]),
  ],
  swiftLanguageModes: [.v6]
)
