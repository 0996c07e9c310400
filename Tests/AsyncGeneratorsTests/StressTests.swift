import AsyncGenerators
import Foundation
import Testing

// The stress engine lives in Sources/AsyncGeneratorStress/StressEngine.swift; the test
// target sees it through the link Support/StressEngine.swift. The executable
// `async-generator-stress` runs the same engine longer (`--long`: 1,000,000 operations).

/// The suites that take over the process-wide `AsyncGeneratorHooks.uncaughtErrorHandler`,
/// one after the other (no other suite sets it).
@Suite("Tests that own the process-wide uncaught error handler", .serialized)
struct UncaughtErrorHandlerOwners {}

extension UncaughtErrorHandlerOwners {
  @Suite("Stress: random calls, drops and cancellations on shared generators")
  struct StressTests {
    /// `STRESS_SEED` replays a run's operations and bodies; `STRESS_OPERATIONS` changes its size.
    static var configuration: StressConfiguration {
      let environment = ProcessInfo.processInfo.environment
      let seed =
        environment["STRESS_SEED"].flatMap(UInt64.init) ?? UInt64.random(in: 0...999_999_999)
      let operations = environment["STRESS_OPERATIONS"].flatMap(Int.init) ?? 20_000
      var configuration = StressConfiguration(seed: seed, operations: operations)
      configuration.workers = 6
      configuration.sharedSlots = 3
      // Other tests run in this process at the same time: leave the process-wide error handler
      // and `liveBodyTasks` alone, and count this run's own bodies instead.
      configuration.libraryFinalization = false
      configuration.exactLiveBodyTasks = false
      configuration.stallTimeout = .seconds(60)
      configuration.onStall = { print($0) }
      return configuration
    }

    @Test("Random next/send/throw/close, drops, cancellations and prefetching: invariants hold")
    func randomOperations() async throws {
      let configuration = Self.configuration
      print(
        "StressTests: seed \(configuration.seed), \(configuration.operations) operations "
          + "(replay with STRESS_SEED=\(configuration.seed))")
      // The engine's watchdog prints where the run is stuck after a minute without progress;
      // the deadline then fails the test.
      let report = try await withDeadline(.seconds(240)) { await StressEngine.run(configuration) }
      print(report)
      #expect(report.violationCount == 0, "\(report)")
      #expect(!report.stalled, "\(report)")
      #expect(report.liveBodiesAtEnd == 0, "every body that started ended")
      #expect(report.cleanupsMissing == 0, "every started body ran its cleanup")
      #expect(report.bodiesStarted > 0 && report.elementsDelivered > 0, "the run did something")
    }

    @Test("The checker catches wrong, repeated, late and unattributed deliveries and leaks")
    func checkerCatchesViolations() {
      let ledger = StressLedger(seed: 0, workers: 1)
      // A token meant for call #5, delivered to #6, then delivered again to #5.
      let meantForFive = StressToken.make(generator: 1, sequence: 0)
      ledger.yielded(meantForFive, destination: 5)
      ledger.delivered(meantForFive, generator: 1, to: 6, start: 0, what: "send")
      ledger.delivered(meantForFive, generator: 1, to: 5, start: 0, what: "send")
      // A token yielded in answer to close(), delivered.
      let forNobody = StressToken.make(generator: 1, sequence: 1)
      ledger.yielded(forNobody, destination: StressDestination.nobody)
      ledger.delivered(forNobody, generator: 1, to: 7, start: 0, what: "next")
      // A token never yielded; another generator's token.
      ledger.delivered(
        StressToken.make(generator: 1, sequence: 9), generator: 1, to: 8, start: 0,
        what: "next")
      let otherGenerators = StressToken.make(generator: 2, sequence: 0)
      ledger.yielded(otherGenerators, destination: StressDestination.anyone)
      ledger.delivered(otherGenerators, generator: 1, to: 9, start: 0, what: "next")
      // An element for a call that began after a close() returned.
      ledger.closed(3, at: 10)
      let late = StressToken.make(generator: 3, sequence: 0)
      ledger.yielded(late, destination: StressDestination.anyone)
      ledger.delivered(late, generator: 3, to: 10, start: 11, what: "next")
      // A body that never ended nor cleaned up; a cleanup run twice.
      ledger.bodyStarted(4, hooks: .scope)
      ledger.bodyStarted(5, hooks: .scope)
      ledger.cleanupEntered(5)
      ledger.cleanupEntered(5)
      ledger.cleanupFinished(5)
      ledger.cleanupFinished(5)
      ledger.bodyEnded(5, hooks: .scope)

      let report = ledger.report()
      let expected = [
        "meant for call #5", "already delivered to call #6", "meant for nobody",
        "never yielded", "another generator's element", "close() had returned",
        "g4: the body started but did not end", "g4: the body started but its cleanup never ran",
        "g5: the cleanup ran 2 times",
      ]
      for phrase in expected {
        #expect(report.violations.contains { $0.contains(phrase) }, "missing: \(phrase)")
      }
      #expect(report.violationCount == expected.count, "\(report.violations)")
      #expect(report.cleanupsMissing == 1)
      #expect(report.liveBodiesAtEnd == 1)
    }
  }

  /// Regression tests for two bugs `async-generator-stress` found (`--include-known-bugs` still
  /// drives their trigger): a prefetching iteration that ended early starts a close of its
  /// generator as finalization closes it; dropping the last reference while that close ran used
  /// to start a second finalization, which reported a spurious `alreadyRunning` to the
  /// process-wide handler and, with a body that yields twice in its cleanup, leaked the orphan
  /// suspended. A finalization now holds a handle while it runs: no second one starts, and when
  /// it ends with the orphan still open, the library finalizes it again (abandoning it).
  @Suite("Finalization while an early-ended prefetch closes")
  struct PrefetchEndThenDropTests {
    @Test(
      "Dropping a generator while its early-ended prefetching iteration's close runs reports nothing",
      arguments: [true, false])
    func dropWhilePrefetchEndCloseRuns(inScope: Bool) async throws {
      try await withDeadline { () async throws in
        // Only alreadyRunning is taken over (nothing else in the suite causes one there);
        // everything else still goes to the handler in place.
        let misrouted = Locked<[String]>([])
        let previous = AsyncGeneratorHooks.uncaughtErrorHandler
        AsyncGeneratorHooks.uncaughtErrorHandler = { error in
          if case AsyncGeneratorError.alreadyRunning = error {
            misrouted.withLock { $0.append("\(error)") }
          } else {
            previous(error)
          }
        }
        defer { AsyncGeneratorHooks.uncaughtErrorHandler = previous }
        let scopeErrors = Locked<[String]>([])
        let log = EventLog()
        let gate = Gate()

        nonisolated(nonsending) func scenario() async throws {
          var generator: AsyncGenerator<Int, Void>? = cleanupGenerator("g", log: log, gate: gate)
          // Ends early: the generator is closed as finalization closes it; its cleanup waits.
          for try await _ in generator!.prefetching(2) { break }
          #expect(await eventually { log.events.contains("g cleanup started") })
          generator = nil  // The last reference goes while that close runs.
          try await Task.sleep(for: .milliseconds(50))  // room for a second finalization
          gate.open()
          #expect(await eventually { log.events.contains("g ended") })
        }
        if inScope {
          try await withAsyncGeneratorScope(onError: { error in
            scopeErrors.withLock { $0.append("\(error)") }
          }) { _ in try await scenario() }
        } else {
          try await scenario()
        }
        #expect(misrouted.current.isEmpty)
        #expect(scopeErrors.current.isEmpty)
        #expect(log.count(of: "g cleanup") == 1)
      }
    }

    /// The same drop, with a body that yields twice in its cleanup and no hooks (the library's
    /// own finalization). The first finalization's two closes are ignored (the first close
    /// made since the object went away is not yet the orphan's second); when it ends, no
    /// reference remains, so the library finalizes again, and that close abandons the body.
    @Test("An orphan dropped while its early-ended prefetch closes is not leaked")
    func orphanNotLeakedAfterPrefetchEnd() async throws {
      try await withDeadline { () async throws in
        let reports = Locked<[String]>([])
        let previous = AsyncGeneratorHooks.uncaughtErrorHandler
        AsyncGeneratorHooks.uncaughtErrorHandler = { error in
          if case AsyncGeneratorError.alreadyRunning = error {
            reports.withLock { $0.append("\(error)") }
          } else {
            previous(error)
          }
        }
        defer { AsyncGeneratorHooks.uncaughtErrorHandler = previous }
        let log = EventLog()
        let gate = Gate()
        var generator: AsyncGenerator<Int, Void>? = AsyncGenerator { yield in
          do {
            for i in 0..<100 { try await yield(i) }
          } catch {
            log.append("cleanup started")
            await gate.wait()
            do { try await yield(-1) } catch { log.append("first cleanup yield threw") }
            do { try await yield(-2) } catch { log.append("second cleanup yield threw") }
            log.append("ended")
            throw error
          }
        }
        for try await _ in generator!.prefetching(2) { break }  // a finalization closes it
        #expect(await eventually { log.events.contains("cleanup started") })
        generator = nil  // while that close waits on the gate
        try await Task.sleep(for: .milliseconds(50))  // room for a second finalization
        gate.open()
        #expect(await eventually { log.events.contains("ended") }, "events: \(log.events)")
        #expect(
          log.events == [
            "cleanup started", "first cleanup yield threw", "second cleanup yield threw", "ended",
          ])
        #expect(reports.current.isEmpty)
      }
    }
  }
}
