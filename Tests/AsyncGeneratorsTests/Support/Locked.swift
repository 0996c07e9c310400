import Foundation

/// A value behind a lock that ThreadSanitizer understands (`NSLock`, a pthread mutex).
final class Locked<Value>: @unchecked Sendable {
  private let lock = NSLock()
  private var value: Value

  init(_ value: Value) {
    self.value = value
  }

  func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
    lock.lock()
    defer { lock.unlock() }
    return try body(&value)
  }

  var current: Value {
    withLock { $0 }
  }

  func set(_ newValue: Value) {
    withLock { $0 = newValue }
  }
}

/// The events a generator body and its consumer record, in the order they happened.
final class EventLog: Sendable {
  private let storage = Locked<[String]>([])

  func append(_ event: String) {
    storage.withLock { $0.append(event) }
  }

  var events: [String] {
    storage.current
  }

  func count(of event: String) -> Int {
    events.filter { $0 == event }.count
  }
}
