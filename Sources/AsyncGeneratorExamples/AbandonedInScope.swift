import AsyncGenerators

/// Updates on `topic`, forever; unsubscribing (asynchronously) whenever the body ends.
func subscription(to topic: String, log: EventLog) -> AsyncGenerator<String, Void> {
  AsyncGenerator { yield in
    log.record("\(topic): subscribed")
    do {
      var number = 0
      while true {
        number += 1
        try await yield("\(topic) update \(number)")
      }
    } catch {
      // Unsubscribing takes a round trip, still under way when the scope's body ends.
      try? await Task.sleep(for: .milliseconds(5))
      log.record("\(topic): unsubscribed after \(error)")
      throw error
    }
  }
}

/// Takes the first update and drops the generator, suspended and unclosed.
func firstUpdate(on topic: String, log: EventLog) async throws -> String? {
  let updates = subscription(to: topic, log: log)
  return try await updates.next()
}  // `updates` is gone here: nobody will call close() on it.

func abandonedInScopeExample() async throws {
  let log = EventLog()
  let reported = EventLog()
  let onError: @Sendable (any Error) -> Void = { reported.record("\($0)") }
  // The scope plays the event loop's part (asyncio's `shutdown_asyncgens`): it tracks every
  // generator first iterated inside it, closes the abandoned ones in tasks it owns, closes
  // any still open when its body ends, and returns only when all that cleanup has finished.
  try await withAsyncGeneratorScope(onError: onError) { _ in
    let update = try await firstUpdate(on: "weather", log: log)
    print("  inside the scope: got \(update ?? "nil") and dropped the generator")
    check(update == "weather update 1", "the first update")
  }
  // Without a scope, the library would still close the generator, in a task of its own,
  // at a moment nobody awaits.
  print("  after the scope:")
  for entry in log.all { print("    \(entry)") }
  check(
    log.all == ["weather: subscribed", "weather: unsubscribed after GeneratorExit()"],
    "the abandoned generator's awaiting cleanup ran before the scope returned")
  check(reported.all.isEmpty, "the scope reported no errors (it reported \(reported.all))")
}
