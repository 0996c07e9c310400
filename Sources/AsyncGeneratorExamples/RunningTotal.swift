import AsyncGenerators

/// Keeps a running total of the numbers sent in, yielding it after each one.
///
/// `Sent == Int`: `yield(total)` returns the value passed to `send(_:)`, or `nil` when the
/// consumer called `next()`.
func runningTotal() -> AsyncGenerator<Int, Int> {
  AsyncGenerator { yield in
    var total = 0
    while true {
      if let number = try await yield(total) {
        total += number
      }
    }
  }
}

func runningTotalExample() async throws {
  let totals = runningTotal()

  // Like Python's `asend`, `send` cannot start a generator: there is no `yield` to receive
  // the value yet.
  do {
    _ = try await totals.send(1)
    check(false, "send before next should throw")
  } catch AsyncGeneratorError.sendToJustStarted {
    print("  send(1) before starting: sendToJustStarted (state: \(totals.state))")
  }
  check(totals.state == .created, "a rejected send leaves the generator created")

  let start = try await totals.next()
  print("  next() -> \(start.map(String.init) ?? "nil")")
  var seen = [start]
  for number in [5, 10, -3] {
    let total = try await totals.send(number)
    print("  send(\(number)) -> \(total.map(String.init) ?? "nil")")
    seen.append(total)
  }
  let unchanged = try await totals.next()
  print("  next() -> \(unchanged.map(String.init) ?? "nil") (the yield returned nil)")
  seen.append(unchanged)
  check(seen == [0, 5, 15, 12, 12], "running totals are 0, 5, 15, 12, 12")

  // The body loops forever; closing it throws GeneratorExit at its pending yield.
  try await totals.close()
  print("  close(); state: \(totals.state)")
  check(totals.state == .closed, "close() closes the generator")
  let afterClose = try await totals.next()
  check(afterClose == nil, "next() on a closed generator returns nil")
}
