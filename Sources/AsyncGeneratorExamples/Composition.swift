import AsyncGenerators

/// 1, 2, 3, ... forever, recording in `log` each number it yields.
func naturals(log: EventLog) -> AsyncGenerator<Int, Void> {
  AsyncGenerator { yield in
    var number = 1
    while true {
      log.record("yielded \(number)")
      try await yield(number)
      number += 1
    }
  }
}

func compositionExample() async throws {
  let log = EventLog()
  // A generator is an AsyncSequence, so the standard operators apply. `prefix` stops
  // pulling after four elements; `closing` then closes the endless generator.
  let squares = try await naturals(log: log).closing { numbers in
    var squares: [Int] = []
    for try await square in numbers.filter({ $0 % 2 == 1 }).map({ $0 * $0 }).prefix(4) {
      squares.append(square)
    }
    return squares
  }
  print("  squares of the first four odd numbers: \(squares)")
  print("  numbers the generator produced: \(log.all.count)")
  check(squares == [1, 9, 25, 49], "filter, map and prefix compose over a generator")
  // Lazy: the body produced 1...7 and nothing more.
  check(log.all.count == 7, "the generator produced only what the consumer pulled")

  // `reduce`, `contains`, `first(where:)` and friends work too.
  let oneToFour = AsyncGenerator<Int, Void> { yield in
    for number in 1...4 { try await yield(number) }
  }
  let sum = try await oneToFour.reduce(0, +)
  print("  1 + 2 + 3 + 4 by reduce: \(sum)")
  check(sum == 10, "reduce consumes the whole generator")
}
