import AsyncGenerators

/// A pool of connections whose acquire and release are asynchronous.
actor Pool {
  private(set) var leased = 0

  func acquire() async {
    await simulatedIO()
    leased += 1
  }

  func release() async {
    await simulatedIO()
    leased -= 1
  }
}

/// Yields `1...count` while holding a lease from `pool`, and gives the lease back however the
/// body ends.
func leasedItems(from pool: Pool, count: Int) -> AsyncGenerator<Int, Void> {
  AsyncGenerator { yield in
    await pool.acquire()
    // Swift has no async `defer` (`await` cannot appear in a `defer` body), so cleanup that
    // awaits and must run on every path is written out for both of them:
    do {
      for item in 1...count {
        try await yield(item)
      }
    } catch {
      // GeneratorExit from close(), an error thrown in, or the body's own failure.
      print("  body: \(error), releasing the lease")
      await pool.release()
      throw error
    }
    print("  body: finished, releasing the lease")
    await pool.release()
  }
}

func closingExample() async throws {
  let pool = Pool()

  // As in Python, leaving a `for` loop early does not close the generator: it stays
  // suspended at its yield, still holding the lease.
  let items = leasedItems(from: pool, count: 5)
  for try await item in items {
    print("  consumer: got \(item)")
    if item == 2 { break }
  }
  print("  after break: state \(items.state), leases held: \(await pool.leased)")
  check(items.state == .suspended, "break leaves the generator suspended")
  check(await pool.leased == 1, "the lease is still held after break")
  try await items.close()
  check(await pool.leased == 0, "close() released the lease")

  // `closing` (Python's `contextlib.aclosing`) closes the generator when its closure exits,
  // by any path, so the cleanup runs right after the break. The closure is not `@Sendable`:
  // it may capture and mutate local state.
  var taken: [Int] = []
  try await leasedItems(from: pool, count: 5).closing { items in
    for try await item in items {
      print("  consumer: got \(item)")
      taken.append(item)
      if item == 2 { break }
    }
  }
  print("  after closing {}: leases held: \(await pool.leased)")
  check(taken == [1, 2], "the loop took two items")
  check(await pool.leased == 0, "closing {} ran the cleanup after the early break")

  // Run to the end, the body takes its normal path and releases the lease there.
  var all: [Int] = []
  for try await item in leasedItems(from: pool, count: 3) { all.append(item) }
  check(all == [1, 2, 3], "an exhausted generator yields everything")
  check(await pool.leased == 0, "the normal path released the lease")
}
