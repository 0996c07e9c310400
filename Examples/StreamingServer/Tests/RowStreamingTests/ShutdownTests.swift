import AsyncGenerators
import AsyncHTTPClient
import Foundation
import NIOCore
import RowStreaming
import Synchronization
import Testing

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

extension StreamingServerTests {
  @Test("A graceful shutdown closes a live stream's generator before the service group returns")
  func gracefulShutdown() async throws {
    let baseline = AsyncGeneratorDiagnostics.liveBodyTasks
    try await withDeadline(.seconds(120), "the graceful shutdown") {
      let server = try await TestServer.start(rows: Self.largeTable)
      do {
        try await liveStreamShutdown(server, baseline: baseline)
      } catch {
        try? await server.stop()
        throw error
      }
      try await server.client.shutdown()
      server.database.remove()
    }
  }

  private func liveStreamShutdown(_ server: TestServer, baseline: Int) async throws {
    var request = HTTPClientRequest(url: server.url("/rows"))
    request.headers.add(name: "X-Request-ID", value: "live")
    let response = try await server.client.execute(request, timeout: .seconds(60))
    // Read a little, then stop reading: the server's write waits for the client, with the
    // generator parked at its yield.
    var body = response.body.makeAsyncIterator()
    var received = 0
    while received < 100, let buffer = try await body.next() {
      received += buffer.readableBytesView.lazy.filter { $0 == UInt8(ascii: "\n") }.count
    }
    #expect(server.registry.openCursors == 1)

    await server.group.triggerGracefulShutdown()
    try await poll("the live stream's cursor closed by the shutdown") {
      server.registry.close(ofRequest: "live") != nil
    }
    let close = try #require(server.registry.close(ofRequest: "live"))
    #expect(close.ending == .closed)
    #expect(close.rowsRead < Self.largeTable)

    // Reading on, the client gets what was already sent, then an error: the response was
    // cut short, and does not look complete.
    var lines = received
    await #expect(throws: (any Error).self) {
      while let buffer = try await body.next() {
        lines += buffer.readableBytesView.lazy.filter { $0 == UInt8(ascii: "\n") }.count
      }
    }
    #expect(lines < Self.largeTable)
    let stoppedAt = try await server.stopped.value
    #expect(close.at < stoppedAt)
    #expect(server.registry.openCursors == 0)
    try await poll("the body task's end") {
      AsyncGeneratorDiagnostics.liveBodyTasks == baseline
    }
  }

  @Test("SIGTERM: the executable closes a live stream's cursor, then exits")
  func sigterm() async throws {
    let executable = try #require(
      Bundle.main.executableURL?.deletingLastPathComponent()
        .appendingPathComponent("StreamingServer"),
      "the test bundle's folder")
    try #require(
      FileManager.default.isExecutableFile(atPath: executable.path),
      "\(executable.path) (built by swift build / swift test)")
    try await withDeadline(.seconds(120), "the executable's SIGTERM shutdown") {
      let process = Process()
      process.executableURL = executable
      process.environment = ProcessInfo.processInfo.environment.merging([
        "PORT": "0", "ROWS": "\(Self.largeTable)", "LOG_LEVEL": "info",
      ]) { $1 }
      let output = Output()
      let pipe = Pipe()
      pipe.fileHandleForReading.readabilityHandler = { output.append($0.availableData) }
      process.standardOutput = pipe
      process.standardError = pipe
      let exited = AsyncStream.makeStream(of: Int32.self)
      process.terminationHandler = {
        exited.continuation.yield($0.terminationStatus)
        exited.continuation.finish()
      }
      try process.run()
      defer { if process.isRunning { process.terminate() } }

      try await poll("the server's URL", within: .seconds(60)) { output.url != nil }
      let url = try #require(output.url)
      try await withHTTPClient { client in
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "X-Request-ID", value: "live")
        let response = try await client.execute(request, timeout: .seconds(60))
        var body = response.body.makeAsyncIterator()
        _ = try await body.next()

        kill(process.processIdentifier, SIGTERM)
        try await poll("the cursor's close in the output") {
          output.text.contains("cursor 1 closed (closed early)")
        }
        await #expect(throws: (any Error).self) { while try await body.next() != nil {} }
      }
      let status = await exited.stream.first { _ in true }

      #expect(status == 0)
      let text = output.text
      let closed = try #require(text.range(of: "cursor 1 closed (closed early)"))
      let stopped = try #require(
        text.range(of: "Stopped: 1 cursors opened, 0 still open, 0 live generator body tasks"))
      #expect(closed.upperBound <= stopped.lowerBound)
    }
  }
}

/// A child process's output, collected as it arrives.
private final class Output: Sendable {
  private let data = Mutex(Data())

  func append(_ chunk: Data) {
    data.withLock { $0.append(chunk) }
  }

  var text: String {
    String(decoding: data.withLock { $0 }, as: UTF8.self)
  }

  /// The URL the server printed, once it has.
  var url: String? {
    guard let match = text.firstMatch(of: /Streaming rows at (http:\/\/\S+\/rows)/) else {
      return nil
    }
    return String(match.1)
  }
}
