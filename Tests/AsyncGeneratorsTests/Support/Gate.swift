/// A one-shot latch: `wait()` suspends until `open()` has been called (at once if it has).
///
/// Waiting is not a cancellation point: a cancelled task waits like any other, so a gate
/// works as an await in cleanup code that must not be cut short.
final class Gate: Sendable {
  private struct State {
    var isOpen = false
    var waiters: [CheckedContinuation<Void, Never>] = []
  }

  private let state = Locked(State())

  var isOpen: Bool {
    state.withLock { $0.isOpen }
  }

  func open() {
    let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
      state.isOpen = true
      defer { state.waiters = [] }
      return state.waiters
    }
    for waiter in waiters { waiter.resume() }
  }

  func wait() async {
    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
      let openAlready = state.withLock { state -> Bool in
        if state.isOpen { return true }
        state.waiters.append(continuation)
        return false
      }
      if openAlready { continuation.resume() }
    }
  }
}
