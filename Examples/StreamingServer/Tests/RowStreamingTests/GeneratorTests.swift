import AsyncGenerators
import Foundation
import RowStreaming
import Testing

extension StreamingServerTests {
  @Test("The generator reads lazily, and a cancelled consumer still gets the cursor closed")
  func cancelledConsumer() async throws {
    let baseline = AsyncGeneratorDiagnostics.liveBodyTasks
    try await withDeadline(.seconds(60), "the cancelled consumer") {
      let path = FileManager.default.temporaryDirectory
        .appendingPathComponent("streaming-server-test-\(UUID().uuidString).sqlite").path
      let database = try await DemoDatabase.create(at: path, rows: 1_000, logger: quietLogger)
      defer { database.remove() }
      let registry = CursorRegistry()
      let chunks = rowChunks(
        from: RowSource(database: database, registry: registry, logger: quietLogger),
        chunkSize: 10)
      let (gotFirst, firstContinuation) = AsyncStream.makeStream(of: Void.self)
      let (gate, _) = AsyncStream.makeStream(of: Void.self)
      let consumer = Task {
        _ = try await chunks.next()
        firstContinuation.yield()
        for await _ in gate {}  // ends when this task is cancelled
        _ = try await chunks.next()  // a cancelled caller: the cancellation goes to the body
      }
      await gotFirst.first { _ in true }
      #expect(registry.openCursors == 1)
      consumer.cancel()
      await #expect(throws: CancellationError.self) { try await consumer.value }

      try await poll("the cursor's close") { registry.closes.count == 1 }
      #expect(registry.closes[0].ending == .cancelled)
      #expect(registry.closes[0].rowsRead <= 20)  // lazy: a chunk per request, none ahead
      #expect(registry.openCursors == 0)
      #expect(chunks.state == .closed)
      try await poll("the body task's end") {
        AsyncGeneratorDiagnostics.liveBodyTasks == baseline
      }
    }
  }
}
