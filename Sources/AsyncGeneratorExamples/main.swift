// The tour: `swift run async-generator-examples`.
//
// Each example is a small file in this folder. They run in order, print what happens, and
// check their own results; the tour exits with status 1 if any check failed.

import AsyncGenerators
import Foundation

await example("1. A ticker: awaiting between yields", tickerExample)
await example("2. A running total driven by send(_:)", runningTotalExample)
await example("3. An error thrown in with throw(_:), handled by the body", throwingInExample)
await example("4. close() with cleanup that awaits", awaitingCleanupExample)
await example("5. closing {} around an early break", closingExample)
await example("6. Composition with AsyncSequence operators", compositionExample)
await example("7. Real I/O: a file read line by line", fileLinesExample)
await example("8. An abandoned generator, cleaned up by its scope", abandonedInScopeExample)
await example("9. A paginated API client: lazy fetches, page size by send", paginatedClientExample)

print("\n== Done ==")
check(AsyncGeneratorDiagnostics.liveBodyTasks == 0, "no generator body is left running")
let (checks, failures) = checkResults()
if failures.isEmpty {
  print("All \(checks) checks passed.")
} else {
  print("\(failures.count) of \(checks) checks failed:")
  for failure in failures { print("  - \(failure)") }
  exit(1)
}
