import Synchronization

/// Counts the cursors that streams open and records how each one was closed, so that tests
/// (and the `/stats` endpoint) can check that every stream's cleanup ran, and when.
public final class CursorRegistry: Sendable {
  /// How a cursor's stream ended.
  public enum Ending: Sendable, Hashable, CustomStringConvertible {
    /// The stream read its last row.
    case exhausted
    /// The generator was closed early: `close()` threw `GeneratorExit` at its `yield` (the
    /// client went away, or the server is shutting down).
    case closed
    /// The body's task was cancelled.
    case cancelled
    /// An error ended the stream (the database's, say).
    case failed(String)

    public var description: String {
      switch self {
      case .exhausted: "exhausted"
      case .closed: "closed early"
      case .cancelled: "cancelled"
      case .failed(let error): "failed: \(error)"
      }
    }
  }

  /// A cursor's close, as the stream's cleanup recorded it.
  public struct Close: Sendable {
    /// The cursor's number, in the order cursors were opened (from 1).
    public let cursor: Int
    /// The request's `X-Request-ID`, if it had one.
    public let requestID: String?
    public let ending: Ending
    /// Rows read from the database before the close.
    public let rowsRead: Int
    /// When the connection had been closed.
    public let at: ContinuousClock.Instant
  }

  private struct State {
    var opened = 0
    var closes: [Close] = []
  }

  private let state = Mutex(State())

  public init() {}

  /// Cursors opened so far.
  public var openedCursors: Int {
    state.withLock { $0.opened }
  }

  /// Cursors opened and not yet closed.
  public var openCursors: Int {
    state.withLock { $0.opened - $0.closes.count }
  }

  /// Every close so far, in order.
  public var closes: [Close] {
    state.withLock { $0.closes }
  }

  /// The close of the request with this `X-Request-ID`, once it has happened.
  public func close(ofRequest requestID: String) -> Close? {
    state.withLock { $0.closes.first { $0.requestID == requestID } }
  }

  func opened() -> Int {
    state.withLock {
      $0.opened += 1
      return $0.opened
    }
  }

  func closed(_ cursor: Int, requestID: String?, ending: Ending, rowsRead: Int) {
    let close = Close(
      cursor: cursor, requestID: requestID, ending: ending, rowsRead: rowsRead, at: .now)
    state.withLock { $0.closes.append(close) }
  }
}
