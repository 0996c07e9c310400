import AsyncGenerators
import Logging
import NIOCore
import Synchronization

/// Where a row stream is read from, and how.
public struct RowSource: Sendable {
  public let database: DemoDatabase
  public let registry: CursorRegistry
  public let logger: Logger

  public init(database: DemoDatabase, registry: CursorRegistry, logger: Logger) {
    self.database = database
    self.registry = registry
    self.logger = logger
  }
}

/// Set by a row stream's body once it has read its last row, so that the consumer can tell
/// the end of the rows from a close by someone else (both make `next()` return `nil`).
public final class StreamCompletion: Sendable {
  private let finished = Atomic(false)

  public init() {}

  /// Whether the stream read its last row.
  public var isFinished: Bool {
    finished.load(ordering: .acquiring)
  }

  func finish() {
    finished.store(true, ordering: .releasing)
  }
}

/// The demo table's rows as NDJSON (one JSON object a line), `chunkSize` rows per element.
///
/// Lazy, as every generator is: the body reads a chunk from the database only when the
/// consumer asks for the next element, so a slow client holds back the database reads.
///
/// The cursor's cleanup is asynchronous (closing the connection hops to NIO's thread pool),
/// and Swift has no async `defer`, so the body closes it on both ways out: after the last row,
/// and when an error reaches it: `GeneratorExit`, thrown at its `yield` by `close()` (the
/// client went away, or shutdown); `CancellationError`; or a database error. Rethrowing
/// `GeneratorExit` makes `close()` return normally, once the cleanup is done.
public func rowChunks(
  from source: RowSource, chunkSize: Int, limit: Int? = nil, requestID: String? = nil,
  completion: StreamCompletion? = nil
) -> AsyncGenerator<ByteBuffer, Void> {
  AsyncGenerator { yield in
    var cursor = try await RowCursor.open(
      source.database, limit: limit, requestID: requestID, registry: source.registry,
      logger: source.logger)
    do {
      while case let rows = try await cursor.next(chunkSize), !rows.isEmpty {
        try await yield(ndjson(rows))
      }
    } catch {
      await cursor.close(ending(after: error))
      throw error
    }
    completion?.finish()
    await cursor.close(.exhausted)
  }
}

private func ending(after error: any Error) -> CursorRegistry.Ending {
  switch error {
  case is GeneratorExit: .closed
  case is CancellationError: .cancelled
  default: .failed("\(error)")
  }
}

/// `rows`, one JSON object a line.
private func ndjson(_ rows: [Row]) -> ByteBuffer {
  var buffer = ByteBuffer()
  buffer.reserveCapacity(rows.count * 140)
  for row in rows {
    buffer.writeString("{\"id\":\(row.id),\"name\":")
    buffer.writeJSONString(row.name)
    buffer.writeString(",\"payload\":")
    buffer.writeJSONString(row.payload)
    buffer.writeString("}\n")
  }
  return buffer
}

extension ByteBuffer {
  /// Writes `string` as a JSON string literal.
  fileprivate mutating func writeJSONString(_ string: String) {
    writeInteger(UInt8(ascii: "\""))
    let quote = UInt8(ascii: "\"")
    let backslash = UInt8(ascii: "\\")
    if !string.utf8.contains(where: { $0 < 0x20 || $0 == quote || $0 == backslash }) {
      writeString(string)  // the common case: nothing to escape
    } else {
      let hex = Array("0123456789abcdef".utf8)
      for byte in string.utf8 {
        switch byte {
        case quote, backslash:
          writeBytes([backslash, byte])
        case ..<0x20:
          writeString("\\u00")
          writeBytes([hex[Int(byte >> 4)], hex[Int(byte & 0xf)]])
        default:
          writeInteger(byte)
        }
      }
    }
    writeInteger(UInt8(ascii: "\""))
  }
}
