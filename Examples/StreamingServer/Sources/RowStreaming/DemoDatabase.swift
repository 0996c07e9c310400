import Foundation
import Logging
import SQLiteNIO

/// The demo database: a file with one table,
/// `rows(id INTEGER PRIMARY KEY, name TEXT, payload TEXT)`, in WAL mode (so that a stream's
/// read snapshot never blocks a writer).
public struct DemoDatabase: Sendable {
  /// The database file.
  public let path: String
  /// The rows it was seeded with: ids `1...rowCount`, named `row-0000001`, ...
  public let rowCount: Int

  /// Creates the database at `path`, replacing any file there, seeded with `rows` rows.
  public static func create(
    at path: String, rows: Int, logger: Logger
  ) async throws -> DemoDatabase {
    precondition(rows > 0, "the demo table needs at least one row")
    let database = DemoDatabase(path: path, rowCount: rows)
    database.remove()
    let connection = try await SQLiteConnection.open(storage: .file(path: path), logger: logger)
    do {
      _ = try await connection.query("PRAGMA journal_mode = WAL")
      _ = try await connection.query(
        "CREATE TABLE rows (id INTEGER PRIMARY KEY, name TEXT NOT NULL, payload TEXT NOT NULL)")
      _ = try await connection.query(
        """
        WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
        INSERT INTO rows SELECT i, printf('row-%07d', i), hex(randomblob(40)) FROM n
        """, [.integer(rows)])
    } catch {
      try? await connection.close().get()
      throw error
    }
    try await connection.close().get()
    return database
  }

  /// Deletes the database's files.
  public func remove() {
    for suffix in ["", "-wal", "-shm"] {
      try? FileManager.default.removeItem(atPath: path + suffix)
    }
  }
}
