import AsyncGenerators
import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import RowStreaming
import ServiceLifecycle
import Synchronization
import Testing

/// Thrown when a test step overruns its deadline.
struct DeadlineExceeded: Error, CustomStringConvertible {
  let what: String
  let limit: Duration
  var description: String { "\(what) did not finish within \(limit)" }
}

/// Runs `operation`, failing with ``DeadlineExceeded`` if it has not finished within `limit`.
///
/// Swift Testing's `.timeLimit` counts in minutes. This returns at the deadline even if the
/// operation ignores its cancellation (it is cancelled and left behind), so no test can hang.
func withDeadline<T: Sendable>(
  _ limit: Duration, _ what: String, _ operation: @escaping @Sendable () async throws -> T
) async throws -> T {
  let outcome = Mutex<CheckedContinuation<T, any Error>?>(nil)
  let work = Task { try await operation() }
  return try await withTaskCancellationHandler {
    try await withCheckedThrowingContinuation { continuation in
      outcome.withLock { $0 = continuation }
      let settle: @Sendable (Result<T, any Error>) -> Void = { result in
        outcome.withLock { $0.take() }?.resume(with: result)
      }
      Task {
        try? await Task.sleep(for: limit)
        settle(.failure(DeadlineExceeded(what: what, limit: limit)))
        work.cancel()
      }
      Task { settle(await work.result) }
    }
  } onCancel: {
    work.cancel()
  }
}

/// Polls `condition` every millisecond until it holds, failing with ``DeadlineExceeded``
/// after `limit`. Returns how long it took.
@discardableResult
func poll(
  _ what: String, within limit: Duration = .seconds(10), _ condition: () -> Bool
) async throws -> Duration {
  let start = ContinuousClock.now
  while !condition() {
    guard ContinuousClock.now - start < limit else {
      throw DeadlineExceeded(what: what, limit: limit)
    }
    try await Task.sleep(for: .milliseconds(1))
  }
  return ContinuousClock.now - start
}

/// A logger that keeps the test output to warnings and errors.
let quietLogger: Logger = {
  var logger = Logger(label: "streaming-server-tests")
  logger.logLevel = .warning
  return logger
}()

/// A server run in-process, as `swift run` runs it: ``StreamingService`` in a service group.
struct TestServer: Sendable {
  let database: DemoDatabase
  let registry: CursorRegistry
  let group: ServiceGroup
  let port: Int
  /// When `group.run()` returned.
  let stopped: Task<ContinuousClock.Instant, any Error>
  let client: HTTPClient

  func url(_ path: String) -> String { "http://127.0.0.1:\(port)\(path)" }

  /// Starts a server over a new database of `rows` rows, on a free loopback port.
  static func start(rows: Int) async throws -> TestServer {
    let path = FileManager.default.temporaryDirectory
      .appendingPathComponent("streaming-server-test-\(UUID().uuidString).sqlite").path
    let database = try await DemoDatabase.create(at: path, rows: rows, logger: quietLogger)
    let registry = CursorRegistry()
    let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
    let application = makeApplication(
      source: RowSource(database: database, registry: registry, logger: quietLogger), port: 0
    ) { port in portContinuation.yield(port) }
    let group = ServiceGroup(
      configuration: .init(
        services: [StreamingService(application: application, logger: quietLogger)],
        logger: quietLogger))
    let stopped = Task {
      try await group.run()
      return ContinuousClock.now
    }
    let port = try await withDeadline(.seconds(10), "server start") {
      await ports.first { _ in true }
    }
    var configuration = HTTPClient.Configuration()
    // The default is 8 connections per host: the concurrency test needs 50 at once.
    configuration.connectionPool = .init(
      idleTimeout: .seconds(30), concurrentHTTP1ConnectionsPerHostSoftLimit: 64)
    let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    return TestServer(
      database: database, registry: registry, group: group, port: try #require(port),
      stopped: stopped, client: client)
  }

  /// Shuts the server down gracefully and removes its database.
  func stop() async throws {
    try await client.shutdown()
    await group.triggerGracefulShutdown()
    _ = try await withDeadline(.seconds(10), "server shutdown") { try await stopped.value }
    database.remove()
  }
}

/// Runs `body` with a new server, stopping it however `body` ends.
func withTestServer(
  rows: Int, _ body: (TestServer) async throws -> Void
) async throws {
  let server = try await TestServer.start(rows: rows)
  do {
    try await body(server)
  } catch {
    try? await server.stop()
    throw error
  }
  try await server.stop()
}

/// Runs `body` with a new HTTP client, shutting it down however `body` ends (a client that
/// is not shut down stops the process when it goes away, in a debug build).
func withHTTPClient<R>(_ body: (HTTPClient) async throws -> R) async throws -> R {
  let client = HTTPClient(eventLoopGroupProvider: .singleton)
  do {
    let result = try await body(client)
    try await client.shutdown()
    return result
  } catch {
    try? await client.shutdown()
    throw error
  }
}

/// One NDJSON line of `/rows`.
struct RowLine: Decodable, Equatable {
  let id: Int
  let name: String
  let payload: String
}

/// Parses a `/rows` body.
func rowLines(_ body: ByteBuffer) throws -> [RowLine] {
  let decoder = JSONDecoder()
  return try body.readableBytesView.split(separator: UInt8(ascii: "\n")).map {
    try decoder.decode(RowLine.self, from: Data($0))
  }
}

extension TestServer {
  /// GETs `path` and collects the whole body.
  func get(_ path: String) async throws -> (status: UInt, body: ByteBuffer) {
    let request = HTTPClientRequest(url: url(path))
    let response = try await client.execute(request, timeout: .seconds(60))
    return (response.status.code, try await response.body.collect(upTo: 1 << 30))
  }

  /// GETs `path`, reads until `lines` lines have arrived, then disconnects; returns when it
  /// disconnected (just before dropping the response, which makes AsyncHTTPClient cancel the
  /// request and close the connection).
  func getAndDisconnect(
    _ path: String, afterLines lines: Int, requestID: String
  ) async throws -> ContinuousClock.Instant {
    var request = HTTPClientRequest(url: url(path))
    request.headers.add(name: "X-Request-ID", value: requestID)
    let response = try await client.execute(request, timeout: .seconds(60))
    #expect(response.status.code == 200)
    var received = 0
    for try await buffer in response.body {
      received += buffer.readableBytesView.lazy.filter { $0 == UInt8(ascii: "\n") }.count
      if received >= lines { return .now }  // leaving the loop drops the body's iterator
    }
    throw StreamEndedEarly(lines: received)
  }
}

struct StreamEndedEarly: Error {
  let lines: Int
}

/// `count` durations' median and maximum, for printing.
func summary(_ durations: [Duration]) -> String {
  let sorted = durations.sorted()
  guard let max = sorted.last else { return "none" }
  return "median \(milliseconds(sorted[sorted.count / 2])), max \(milliseconds(max))"
}

func milliseconds(_ duration: Duration) -> String {
  let (seconds, attoseconds) = duration.components
  return String(format: "%.2f ms", Double(seconds) * 1e3 + Double(attoseconds) / 1e15)
}
