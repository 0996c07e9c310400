// swift-tools-version: 6.2
// An HTTP server that streams rows of a SQLite database through an AsyncGenerator: a package of
// its own, depending on the library by path, so that the library's users never resolve
// Hummingbird, AsyncHTTPClient or sqlite-nio. What it shows and how to run it: README.md.
import PackageDescription

let package = Package(
  name: "StreamingServer",
  platforms: [.macOS(.v15)],
  dependencies: [
    .package(name: "swift-async-generators", path: "../.."),
    .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
    .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
    .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    .package(url: "https://github.com/apple/swift-nio", from: "2.101.3"),
    // SQLite with its amalgamation vendored (no system library), on NIO's thread pool.
    .package(url: "https://github.com/vapor/sqlite-nio", from: "1.13.2"),
  ],
  targets: [
    // The streaming endpoint, its SQLite cursor, and the service that shuts it down.
    .target(
      name: "RowStreaming",
      dependencies: [
        .product(name: "AsyncGenerators", package: "swift-async-generators"),
        .product(name: "Hummingbird", package: "hummingbird"),
        .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        .product(name: "Logging", package: "swift-log"),
        .product(name: "SQLiteNIO", package: "sqlite-nio"),
        .product(name: "NIOCore", package: "swift-nio"),
      ]
    ),
    // `swift run`: seeds a demo database and serves it on loopback until SIGINT/SIGTERM.
    .executableTarget(
      name: "StreamingServer",
      dependencies: [
        "RowStreaming",
        .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        .product(name: "Logging", package: "swift-log"),
      ]
    ),
    .testTarget(
      name: "RowStreamingTests",
      dependencies: [
        "RowStreaming",
        .product(name: "AsyncGenerators", package: "swift-async-generators"),
        .product(name: "AsyncHTTPClient", package: "async-http-client"),
        .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        .product(name: "Logging", package: "swift-log"),
        .product(name: "NIOCore", package: "swift-nio"),
      ]
    ),
  ],
  swiftLanguageModes: [.v6]
)
