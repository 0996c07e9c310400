import AsyncGenerators
import Testing

/// `test_coroutines`' `f`: yields each item of `items`, awaiting before each.
private func f<T: Sendable>(_ items: [T]) -> AsyncGenerator<T, Void> {
  AsyncGenerator { yield in
    for item in items {
      await Task.yield()
      try await yield(item)
    }
  }
}

/// Collects a sequence into an array (Python's `[x async for x in s]`).
private func collect<S: AsyncSequence>(_ sequence: S) async throws -> [S.Element] {
  try await sequence.reduce(into: []) { $0.append($1) }
}

/// CATALOGUE group COMP: Python's async comprehensions and generator expressions are
/// `AsyncSequence` operators (`map`, `filter`, `reduce`) and generators over generators here.
@Suite("Catalogue: comprehensions and generator expressions (COMP)")
struct CatalogueComprehensionTests {
  @Test(
    "AG-137: list, set, dict and generator-expression comprehensions over a generator, with and without filters"
  )
  func comprehensions() async throws {
    try await withDeadline { () async throws in
      // [i + 1 async for i in f([10, 20])], {…}, {i + 1: i + 2 …}
      #expect(try await collect(f([10, 20]).map { $0 + 1 }) == [11, 21])
      let set = try await f([10, 20]).reduce(into: Set<Int>()) { $0.insert($1 + 1) }
      #expect(set == [11, 21])
      let dict = try await f([10, 20]).reduce(into: [Int: Int]()) { $0[$1 + 1] = $1 + 2 }
      #expect(dict == [11: 12, 21: 22])
      // An async generator expression, collected again: (i + 1 async for …), then + 100.
      let expression = AsyncGenerator<Int, Void> { yield in
        for try await i in f([10, 20]) { try await yield(i + 1) }
      }
      #expect(try await collect(expression.map { $0 + 100 }) == [111, 121])

      // The same with `if i > 10`.
      #expect(try await collect(f([10, 20]).filter { $0 > 10 }.map { $0 + 1 }) == [21])
      let filteredSet = try await f([10, 20]).filter { $0 > 10 }
        .reduce(into: Set<Int>()) { $0.insert($1 + 1) }
      #expect(filteredSet == [21])
      let filteredDict = try await f([10, 20]).filter { $0 > 10 }
        .reduce(into: [Int: Int]()) { $0[$1 + 1] = $1 + 2 }
      #expect(filteredDict == [21: 22])
      let filteredExpression = AsyncGenerator<Int, Void> { yield in
        for try await i in f([10, 20]) where i > 10 { try await yield(i + 1) }
      }
      #expect(try await collect(filteredExpression.map { $0 + 100 }) == [121])
      // [i + 10 async for i in f(range(5)) if 0 < i < 4]
      #expect(
        try await collect(f(Array(0..<5)).filter { 0 < $0 && $0 < 4 }.map { $0 + 10 })
          == [11, 12, 13])
    }
  }

  @Test(
    "AG-138: a generator over a generator ((i * 2 async for i in arange(n))) is itself a generator and pulls lazily"
  )
  func generatorOverGenerator() async throws {
    try await withDeadline { () async throws in
      let log = EventLog()
      @Sendable func arange(_ n: Int) -> AsyncGenerator<Int, Void> {
        AsyncGenerator { yield in
          for i in 0..<n {
            await Task.yield()
            log.append("arange \(i)")
            try await yield(i)
          }
        }
      }
      let doubled: AsyncGenerator<Int, Void> = AsyncGenerator { yield in
        for try await i in arange(10) { try await yield(i * 2) }
      }
      #expect(try await doubled.next() == 0)
      #expect(log.events == ["arange 0"])
      #expect(try await doubled.next() == 2)
      #expect(log.events == ["arange 0", "arange 1"])
      #expect(try await collect(doubled) == Array(stride(from: 4, to: 20, by: 2)))
      #expect(doubled.state == .closed)

      // The same through `map`, which is lazy as well.
      let mapped = arange(10).map { $0 * 2 }
      var iterator = mapped.makeAsyncIterator()
      #expect(try await iterator.next() == 0)
      #expect(log.count(of: "arange 1") == 1)
      var rest: [Int] = []
      while let x = try await iterator.next() { rest.append(x) }
      #expect(rest == Array(stride(from: 2, to: 20, by: 2)))
    }
  }

  @Test(
    "AG-140: async loops mixed with plain loops and filters, and nested comprehensions")
  func mixedAndNested() async throws {
    try await withDeadline { () async throws in
      // [i + 1 for pair in ([10, 20], [30, 40]) if pair[0] > 10
      //        async for i in f(pair) if i > 30]
      var mixed: [Int] = []
      for pair in [[10, 20], [30, 40]] where pair[0] > 10 {
        for try await i in f(pair) where i > 30 { mixed.append(i + 1) }
      }
      #expect(mixed == [41])

      // [i + 1 async for seq in f([(10, 20), (30,)]) for i in seq]
      var flattened: [Int] = []
      for try await sequence in f([[10, 20], [30]]) {
        for i in sequence { flattened.append(i + 1) }
      }
      #expect(flattened == [11, 21, 31])

      // [[i + j async for i in f([1, 2])] for j in [10, 20]]
      var nested: [[Int]] = []
      for j in [10, 20] {
        nested.append(try await collect(f([1, 2]).map { $0 + j }))
      }
      #expect(nested == [[11, 12], [21, 22]])
    }
  }

  @Test(
    "AG-141: an error from the generator propagates out of the comprehension; the partial result is discarded; closed"
  )
  func errorInComprehension() async throws {
    try await withDeadline { () async throws in
      struct Exception: Error, Equatable { var message: String }
      let g = AsyncGenerator<Int, Void> { yield in
        try await yield(1)
        try await yield(2)
        throw Exception(message: "aaa")
      }
      var result: [Int]?
      await #expect(throws: Exception(message: "aaa")) { result = try await collect(g) }
      #expect(result == nil)
      #expect(g.state == .closed)
    }
  }
}
