import AsyncGenerators
import AsyncHTTPClient
import Foundation
import RowStreaming
import Testing

/// End-to-end tests over loopback HTTP. Serialized: they compare the process-wide
/// `AsyncGeneratorDiagnostics.liveBodyTasks` with its value before each test.
@Suite("Streaming server", .serialized)
struct StreamingServerTests {
  /// Rows for the tests whose clients disconnect early. At about 127 bytes a line, 400,000
  /// rows (51 MB) are more than the loopback socket buffers and the client can hold, so the
  /// server cannot have written its last row before the client goes.
  static let largeTable = 400_000

  @Test("A client that reads the whole stream gets every row once, in order")
  func wholeStream() async throws {
    let baseline = AsyncGeneratorDiagnostics.liveBodyTasks
    try await withDeadline(.seconds(120), "the whole stream") {
      try await withTestServer(rows: 30_000) { server in
        let (status, body) = try await server.get("/rows?chunk=250")
        #expect(status == 200)
        let lines = try rowLines(body)
        #expect(lines.map(\.id) == Array(1...30_000))
        #expect(lines.allSatisfy { $0.name == String(format: "row-%07d", $0.id) })

        try await poll("the cursor's close") { server.registry.closes.count == 1 }
        let close = server.registry.closes[0]
        #expect(close.ending == .exhausted)
        #expect(close.rowsRead == 30_000)
        #expect(server.registry.openCursors == 0)
        try await poll("the body task's end") {
          AsyncGeneratorDiagnostics.liveBodyTasks == baseline
        }
      }
    }
  }

  @Test("A client that disconnects early gets the cursor closed, and no body task leaks")
  func disconnect() async throws {
    let baseline = AsyncGeneratorDiagnostics.liveBodyTasks
    try await withDeadline(.seconds(120), "the disconnects") {
      try await withTestServer(rows: Self.largeTable) { server in
        var latencies: [Duration] = []
        for attempt in 1...10 {
          let requestID = "early-\(attempt)"
          let disconnectedAt = try await server.getAndDisconnect(
            "/rows", afterLines: 300, requestID: requestID)
          try await poll("the cursor's close after disconnect \(attempt)", within: .seconds(5)) {
            server.registry.close(ofRequest: requestID) != nil
          }
          let close = try #require(server.registry.close(ofRequest: requestID))
          #expect(close.ending == .closed)
          #expect(close.rowsRead < Self.largeTable)
          try await poll("the body task's end after disconnect \(attempt)", within: .seconds(5)) {
            AsyncGeneratorDiagnostics.liveBodyTasks == baseline
          }
          latencies.append(close.at - disconnectedAt)
        }
        #expect(server.registry.openCursors == 0)
        print("disconnect to cursor closed, 10 sequential clients: \(summary(latencies))")

        let (status, body) = try await server.get("/rows?limit=5")
        #expect(status == 200)
        #expect(try rowLines(body).map(\.id) == [1, 2, 3, 4, 5])
      }
    }
  }

  @Test("50 concurrent clients, half disconnecting early: every cleanup runs")
  func concurrentClients() async throws {
    let baseline = AsyncGeneratorDiagnostics.liveBodyTasks
    try await withDeadline(.seconds(180), "50 concurrent clients") {
      try await withTestServer(rows: Self.largeTable) { server in
        let disconnects = try await withThrowingTaskGroup(
          of: (String, ContinuousClock.Instant)?.self
        ) { group in
          for client in 0..<50 {
            group.addTask {
              let requestID = "client-\(client)"
              if client.isMultiple(of: 2) {
                let (status, body) = try await server.get("/rows?limit=2000&chunk=50")
                #expect(status == 200)
                #expect(try rowLines(body).map(\.id) == Array(1...2000))
                return nil
              }
              let at = try await server.getAndDisconnect(
                "/rows", afterLines: 100, requestID: requestID)
              return (requestID, at)
            }
          }
          return try await group.reduce(into: [String: ContinuousClock.Instant]()) {
            if let (requestID, at) = $1 { $0[requestID] = at }
          }
        }
        try await poll("all 50 cursors' closes") { server.registry.closes.count == 50 }
        let closes = server.registry.closes
        #expect(server.registry.openedCursors == 50)
        #expect(server.registry.openCursors == 0)
        #expect(closes.filter { $0.ending == .exhausted && $0.rowsRead == 2000 }.count == 25)
        #expect(closes.filter { $0.ending == .closed }.count == 25)
        try await poll("the body tasks' end") {
          AsyncGeneratorDiagnostics.liveBodyTasks == baseline
        }
        let latencies = disconnects.compactMap { requestID, disconnectedAt in
          server.registry.close(ofRequest: requestID).map { $0.at - disconnectedAt }
        }
        #expect(latencies.count == 25)
        print("disconnect to cursor closed, 25 of 50 concurrent clients: \(summary(latencies))")

        // Still responsive.
        let (status, body) = try await server.get("/rows?limit=10")
        #expect(status == 200)
        #expect(try rowLines(body).map(\.id) == Array(1...10))
        let (statsStatus, stats) = try await server.get("/stats")
        #expect(statsStatus == 200)
        #expect(String(buffer: stats).contains("open cursors: 0"))
      }
    }
  }
}
