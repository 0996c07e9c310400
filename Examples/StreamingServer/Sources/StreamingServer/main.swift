import AsyncGenerators
import Foundation
import Logging
import RowStreaming
import ServiceLifecycle

// `swift run`: seeds a demo database, serves it on loopback, and stops on SIGINT or SIGTERM
// once every stream's cleanup has run. Environment: `PORT` (8080; 0 picks a free one),
// `ROWS` (100,000), `LOG_LEVEL` (info).

/// Prints `line` at once (unbuffered, even into a pipe), for whoever waits for the URL.
func say(_ line: String) {
  FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

let environment = ProcessInfo.processInfo.environment
let port = environment["PORT"].flatMap { Int($0) } ?? 8080
let rows = environment["ROWS"].flatMap { Int($0) } ?? 100_000
var logger = Logger(label: "streaming-server")
logger.logLevel = environment["LOG_LEVEL"].flatMap { Logger.Level(rawValue: $0) } ?? .info

let path = FileManager.default.temporaryDirectory
  .appendingPathComponent("streaming-server-\(ProcessInfo.processInfo.processIdentifier).sqlite")
  .path
let database = try await DemoDatabase.create(at: path, rows: rows, logger: logger)
defer { database.remove() }
say("Seeded \(rows) rows into \(path)")

let registry = CursorRegistry()
let source = RowSource(database: database, registry: registry, logger: logger)
let application = makeApplication(source: source, port: port) { port in
  say("Streaming rows at http://127.0.0.1:\(port)/rows (stats at /stats; Ctrl-C to stop)")
}
var configuration = ServiceGroupConfiguration(
  services: [StreamingService(application: application, logger: logger)],
  gracefulShutdownSignals: [.sigterm, .sigint],
  logger: logger)
configuration.maximumGracefulShutdownDuration = .seconds(10)
try await ServiceGroup(configuration: configuration).run()

say(
  "Stopped: \(registry.openedCursors) cursors opened, \(registry.openCursors) still open,"
    + " \(AsyncGeneratorDiagnostics.liveBodyTasks) live generator body tasks")
