import Synchronization

/// The tour's bookkeeping: every `check` that failed, and how many ran.
private let results = Mutex<(checks: Int, failures: [String])>((0, []))

/// Records a failure if `condition` is false, and says so on the spot.
func check(_ condition: Bool, _ message: String) {
  results.withLock { results in
    results.checks += 1
    if !condition { results.failures.append(message) }
  }
  if !condition { print("  ✗ CHECK FAILED: \(message)") }
}

/// The failed checks so far, and how many checks ran.
func checkResults() -> (checks: Int, failures: [String]) {
  results.withLock { $0 }
}

/// Prints an example's heading, runs it, and records an error it did not expect as a failure.
func example(_ title: String, _ run: () async throws -> Void) async {
  print("\n== \(title) ==")
  do {
    try await run()
  } catch {
    check(false, "\(title): unexpected error \(error)")
  }
}

/// An ordered record of what a generator's body did, for the tour to check.
///
/// A body that may run while the tour carries on (a scope's cleanup) records here rather
/// than prints, and the tour prints the record once its order is settled.
final class EventLog: Sendable {
  private let entries = Mutex<[String]>([])

  func record(_ entry: String) {
    entries.withLock { $0.append(entry) }
  }

  var all: [String] {
    entries.withLock { $0 }
  }
}

/// Stands in for real asynchronous work (a network round trip, a flush) in cleanup code.
func simulatedIO() async {
  await Task.yield()
}
