import AsyncGenerators

/// Yields `0..<count`, sleeping `delay` between ticks.
///
/// The body only runs while a consumer waits for an element, so the sleep after a tick
/// happens when the next tick is asked for, never ahead of the consumer.
func ticker(every delay: Duration, count: Int) -> AsyncGenerator<Int, Void> {
  AsyncGenerator { yield in
    for i in 0..<count {
      print("  body: tick \(i)")
      try await yield(i)
      try await Task.sleep(for: delay)
    }
  }
}

func tickerExample() async throws {
  let ticks = ticker(every: .milliseconds(10), count: 3)
  print("  created; state: \(ticks.state) (nothing has run yet)")
  check(ticks.state == .created, "a new generator is created")

  var received: [Int] = []
  for try await tick in ticks {
    print("  consumer: got \(tick); state: \(ticks.state)")
    received.append(tick)
  }
  print("  loop ended; state: \(ticks.state)")
  check(received == [0, 1, 2], "the ticker yields 0, 1, 2")
  check(ticks.state == .closed, "an exhausted generator is closed")
}
