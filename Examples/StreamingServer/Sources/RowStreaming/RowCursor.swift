import Logging
import NIOCore
import SQLiteNIO

/// A row of the demo table.
struct Row: Sendable {
  var id: Int
  var name: String
  var payload: String
}

/// A cursor over the demo table's rows in `id` order, on a database connection of its own.
///
/// sqlite-nio runs each query to its end on NIO's thread pool and keeps no statement
/// half-stepped across awaits, so this is a keyset cursor: each ``next(_:)`` reads the rows
/// after the last one it returned. It reads inside one transaction, so every chunk comes from
/// the same snapshot of the database. That connection and its snapshot are what ``close(_:)``
/// releases: a leaked cursor keeps a file descriptor and pins the WAL (no checkpoint can pass
/// its snapshot) for as long as it lives.
struct RowCursor {
  let number: Int
  private let connection: SQLiteConnection
  private let registry: CursorRegistry
  private let requestID: String?
  private let logger: Logger
  private var lastID = 0
  private var remaining: Int
  private(set) var rowsRead = 0

  /// Opens a connection to `database` and starts its read transaction; `limit` caps the rows.
  static func open(
    _ database: DemoDatabase, limit: Int?, requestID: String?, registry: CursorRegistry,
    logger: Logger
  ) async throws -> RowCursor {
    let connection = try await SQLiteConnection.open(
      storage: .file(path: database.path), logger: logger)
    do {
      _ = try await connection.query("BEGIN")
    } catch {
      try? await connection.close().get()
      throw error
    }
    let number = registry.opened()
    logger.debug("cursor \(number) opened", metadata: ["request": "\(requestID ?? "-")"])
    return RowCursor(
      number: number, connection: connection, registry: registry, requestID: requestID,
      logger: logger, remaining: limit ?? .max)
  }

  private init(
    number: Int, connection: SQLiteConnection, registry: CursorRegistry, requestID: String?,
    logger: Logger, remaining: Int
  ) {
    self.number = number
    self.connection = connection
    self.registry = registry
    self.requestID = requestID
    self.logger = logger
    self.remaining = remaining
  }

  /// The next `count` rows or fewer; empty at the end.
  mutating func next(_ count: Int) async throws -> [Row] {
    let count = min(count, remaining)
    guard count > 0 else { return [] }
    let rows = try await connection.query(
      "SELECT id, name, payload FROM rows WHERE id > ? ORDER BY id LIMIT ?",
      [.integer(lastID), .integer(count)]
    ).map { row in
      Row(
        id: row.column("id")?.integer ?? 0, name: row.column("name")?.string ?? "",
        payload: row.column("payload")?.string ?? "")
    }
    lastID = rows.last?.id ?? lastID
    remaining -= rows.count
    rowsRead += rows.count
    return rows
  }

  /// Closes the connection (which ends its read transaction) and records the close.
  ///
  /// Runs in a cancelled task too: it uses sqlite-nio's future-returning `close()`, because
  /// the `async` one goes through `NIOThreadPool.runIfActive`, which skips the work of a task
  /// that is already cancelled (the connection would leak).
  func close(_ ending: CursorRegistry.Ending) async {
    do {
      try await connection.close().get()
    } catch {
      logger.error("cursor \(number): closing its connection failed: \(error)")
    }
    registry.closed(number, requestID: requestID, ending: ending, rowsRead: rowsRead)
    logger.info(
      "cursor \(number) closed (\(ending)) after \(rowsRead) rows",
      metadata: ["request": "\(requestID ?? "-")"])
  }
}
