// The stress engine: many tasks make random calls on shared generators whose bodies await,
// catch, yield in cleanup and throw, while a ledger checks every outcome against the
// contract (SPEC.md). Shared by the `async-generator-stress` executable and the unit test
// `StressTests` (Tests/AsyncGeneratorsTests/Support/StressEngine.swift is a link to this
// file), so it depends on nothing but the library and Foundation, and names everything
// `Stress...` to stay clear of the test target's helpers.
//
// What is checked (each breach is a violation, reported with the seed):
// - every element (a unique token: generator id and sequence number) is delivered at most
//   once, only by a call on its own generator, and only to the call it was meant for: a body
//   knows who resumed it (`send` carries the call's id, `throw` an error carrying it), so the
//   token it yields next is destined for that call (or for nobody: an element yielded in
//   answer to `close()` is never delivered);
// - calls that race get `alreadyRunning`, never someone else's element; no call that began
//   after a `close()` returned normally gets an element; a normal `close()` or a `nil` leaves
//   the generator `closed`;
// - only the errors the contract allows come out of each call, and of finalization;
// - every body that started ends, runs its cleanup exactly once, and no body runs twice;
//   counted per body here, and, when nothing else runs in the process, through
//   `AsyncGeneratorDiagnostics.liveBodyTasks`, which must come back to where it started;
// - nothing hangs: a watchdog thread fires when no progress is made for a while.
//
// Choices are drawn from a seeded generator (per worker and per body), so a seed replays the
// same operations and bodies; the interleaving of threads is not replayed.

import AsyncGenerators
import Foundation
import Synchronization

// MARK: - Configuration and report

struct StressConfiguration: Sendable {
  var seed: UInt64
  /// Operations in all, shared out among the workers.
  var operations: Int
  var workers = 8
  /// Generator slots besides the one each worker favours.
  var sharedSlots = 4
  /// The watchdog fires after this long without progress.
  var stallTimeout: Duration = .seconds(60)
  /// How long to wait, after the run, for finalization to end every body (less than the
  /// stall timeout, so that a leak is reported as one).
  var settleTimeout: Duration = .seconds(20)
  /// Whether operations may leave generators to the library's own finalization (no hooks, or
  /// a finalizer that drops its handle), whose errors go to the process-wide
  /// `AsyncGeneratorHooks.uncaughtErrorHandler`, which the run then takes over. Only for a
  /// process where nothing else runs (the executable).
  var libraryFinalization = false
  /// Whether nothing else in the process runs generators, so that
  /// `AsyncGeneratorDiagnostics.liveBodyTasks` must return exactly to its baseline.
  var exactLiveBodyTasks = false
  /// Called about every `progressInterval` operations.
  var progressInterval = 0
  var progress: (@Sendable (Int) -> Void)?
  /// Called from the watchdog thread with a description of the work in flight.
  var onStall: @Sendable (String) -> Void = { print($0) }
}

struct StressReport: Sendable, CustomStringConvertible {
  var seed: UInt64 = 0
  var operations = 0
  var calls = 0
  var generators = 0
  var bodiesStarted = 0
  var bodiesEnded = 0
  var cleanupsRun = 0
  /// Started bodies whose cleanup never ran.
  var cleanupsMissing = 0
  var elementsYielded = 0
  var elementsDelivered = 0
  var alreadyRunning = 0
  var cancellations = 0
  var prefetchIterations = 0
  var finalizationReports = 0
  var liveBodyTasksBaseline = 0
  var liveBodyTasksAtEnd = 0
  /// Own bodies started and not ended after the settle timeout.
  var liveBodiesAtEnd = 0
  var stalled = false
  var duration: Duration = .zero
  var violationCount = 0
  var violations: [String] = []
  var outcomes: [String: Int] = [:]

  var passed: Bool { violationCount == 0 && !stalled }

  var description: String {
    var lines = [
      "seed \(seed): \(operations) operations (\(calls) calls) on \(generators) generators "
        + "in \(formatted(duration))",
      "bodies: \(bodiesStarted) started, \(bodiesEnded) ended, \(liveBodiesAtEnd) left running; "
        + "cleanups: \(cleanupsRun) run, \(cleanupsMissing) missing",
      "elements: \(elementsYielded) yielded, \(elementsDelivered) delivered; "
        + "alreadyRunning: \(alreadyRunning); cancelled calls: \(cancellations); "
        + "prefetching iterations: \(prefetchIterations); "
        + "finalization reports: \(finalizationReports)",
      "liveBodyTasks: \(liveBodyTasksBaseline) before, \(liveBodyTasksAtEnd) after",
      "outcomes: "
        + outcomes.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(
          separator: ", "),
    ]
    if stalled { lines.append("STALLED: the watchdog fired (no progress)") }
    if violationCount == 0 {
      lines.append("invariants: all held")
    } else {
      lines.append("VIOLATIONS: \(violationCount)")
      lines += violations.map { "  - \($0)" }
    }
    return lines.joined(separator: "\n")
  }

  private func formatted(_ duration: Duration) -> String {
    let seconds =
      Double(duration.components.seconds)
      + Double(duration.components.attoseconds) / 1e18
    return String(format: "%.2f s", seconds)
  }
}

// MARK: - Small tools

/// A value behind a pthread lock (`NSLock`), which ThreadSanitizer understands.
final class StressLocked<Value>: @unchecked Sendable {
  private let lock = NSLock()
  private var value: Value

  init(_ value: Value) {
    self.value = value
  }

  func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
    lock.lock()
    defer { lock.unlock() }
    return try body(&value)
  }
}

/// SplitMix64: small, fast, and the same sequence for the same seed everywhere.
struct StressRandom: RandomNumberGenerator {
  private var state: UInt64

  init(seed: UInt64) {
    state = seed
  }

  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }

  /// Whether an event of probability `percent`/100 happens.
  mutating func chance(_ percent: Int) -> Bool {
    Int.random(in: 0..<100, using: &self) < percent
  }

  mutating func int(_ range: ClosedRange<Int>) -> Int {
    Int.random(in: range, using: &self)
  }

  /// Picks a case by weight.
  mutating func pick<T>(_ weighted: [(T, Int)]) -> T {
    var roll = Int.random(in: 0..<weighted.reduce(0) { $0 + $1.1 }, using: &self)
    for (value, weight) in weighted {
      if roll < weight { return value }
      roll -= weight
    }
    return weighted[weighted.count - 1].0
  }
}

/// The error `throw(_:)` injects: it carries the id of the call that threw it, so the body
/// knows whom its next element is for.
struct StressInjected: Error, Hashable {
  let callID: Int
}

/// A body's own error, thrown from its main part.
struct StressBodyFailure: Error, Hashable {
  let generator: Int
}

/// A body's error thrown from its cleanup, replacing the error it was cleaning up after.
struct StressCleanupFailure: Error, Hashable {
  let generator: Int
}

typealias StressGenerator = AsyncGenerator<Int, Int>

/// Which hooks every call on a generator runs under, so which finalization it gets.
enum StressHooks: Sendable {
  /// The run's scope: tracked, closed by the scope when abandoned and at its end.
  case scope
  /// No hooks: the library's own finalization.
  case none
  /// A finalizer that closes the handle in a task of its own.
  case spawnFinalizer
  /// A finalizer that lets the handle go: the library must then finalize.
  case dropHandle

  static func random(using random: inout StressRandom, libraryFinalization: Bool) -> StressHooks {
    libraryFinalization
      ? random.pick([(.scope, 12), (.none, 3), (.spawnFinalizer, 3), (.dropHandle, 2)])
      : random.pick([(.scope, 4), (.spawnFinalizer, 1)])
  }
}

/// Elements are tokens `generator << 8 | sequence`; a body yields fewer than 256 times.
enum StressToken {
  static func make(generator: Int, sequence: Int) -> Int { generator << 8 | sequence }
  static func generator(of token: Int) -> Int { token >> 8 }
  static func describe(_ token: Int) -> String { "g\(token >> 8).\(token & 0xFF)" }
}

/// For whom a token is meant: a call id (> 0), anyone (a `next()` or a prefetching
/// iteration resumed the body), or nobody (it answers a `close()`).
enum StressDestination {
  static let anyone = -1
  static let nobody = -2

  static func describe(_ destination: Int) -> String {
    switch destination {
    case anyone: "anyone"
    case nobody: "nobody"
    default: "call #\(destination)"
    }
  }
}

// MARK: - The ledger

/// Everything the run records, checked as it goes and at the end.
final class StressLedger: @unchecked Sendable {
  struct TokenRecord {
    var destination: Int
    var receivedBy = 0
  }

  struct BodyRecord {
    var starts = 0
    var ends = 0
    var cleanupsEntered = 0
    var cleanupsFinished = 0
    var hooks = StressHooks.scope
    /// Where the body is, for the watchdog's report.
    var place = ""
  }

  /// What a worker is doing, for the watchdog's report.
  struct Activity {
    var operation = "idle"
    var generator = 0
    var callID = 0
    var since = ContinuousClock.now
  }

  private static let shardCount = 64
  private let tokens: [StressLocked<[Int: TokenRecord]>]
  /// Bodies of generators the scope tracks, started and not ended.
  let liveScopeBodies = Atomic<Int>(0)
  private let bodies: [StressLocked<[Int: BodyRecord]>]
  private let closedAt = StressLocked<[Int: Int]>([:])
  private let violationList = StressLocked<[String]>([])
  private let outcomeCounts = StressLocked<[String: Int]>([:])
  let activities: StressLocked<[Activity]>
  /// What the run as a whole is doing (the workers, the drain, the scope's exit, settling).
  let phase = StressLocked("starting")
  let seed: UInt64

  // Counters.
  let clock = Atomic<Int>(0)
  let nextCallID = Atomic<Int>(1)
  let nextGeneratorID = Atomic<Int>(1)
  let progress = Atomic<Int>(0)
  let operations = Atomic<Int>(0)
  let calls = Atomic<Int>(0)
  let bodiesStarted = Atomic<Int>(0)
  let bodiesEnded = Atomic<Int>(0)
  let cleanupsRun = Atomic<Int>(0)
  let elementsYielded = Atomic<Int>(0)
  let elementsDelivered = Atomic<Int>(0)
  let alreadyRunning = Atomic<Int>(0)
  let cancellations = Atomic<Int>(0)
  let prefetchIterations = Atomic<Int>(0)
  let finalizationReports = Atomic<Int>(0)
  let violationCount = Atomic<Int>(0)

  init(seed: UInt64, workers: Int) {
    self.seed = seed
    tokens = (0..<Self.shardCount).map { _ in StressLocked([:]) }
    bodies = (0..<Self.shardCount).map { _ in StressLocked([:]) }
    activities = StressLocked(Array(repeating: Activity(), count: workers))
  }

  var liveBodies: Int {
    bodiesStarted.load(ordering: .acquiring) - bodiesEnded.load(ordering: .acquiring)
  }

  func tick() -> Int {
    clock.wrappingAdd(1, ordering: .sequentiallyConsistent).newValue
  }

  func newCallID() -> Int {
    nextCallID.wrappingAdd(1, ordering: .relaxed).oldValue
  }

  func newGeneratorID() -> Int {
    nextGeneratorID.wrappingAdd(1, ordering: .relaxed).oldValue
  }

  func madeProgress() {
    progress.add(1, ordering: .relaxed)
  }

  func count(_ outcome: String) {
    outcomeCounts.withLock { $0[outcome, default: 0] += 1 }
  }

  func violation(_ message: String) {
    violationCount.add(1, ordering: .relaxed)
    violationList.withLock { list in
      if list.count < 50 { list.append(message) }
    }
  }

  func setActivity(_ worker: Int, _ operation: String, generator: Int = 0, callID: Int = 0) {
    activities.withLock {
      $0[worker] = Activity(
        operation: operation, generator: generator, callID: callID, since: .now)
    }
  }

  // MARK: Bodies

  private func withBody<R>(_ generator: Int, _ body: (inout BodyRecord) -> R) -> R {
    bodies[generator % Self.shardCount].withLock { records in
      body(&records[generator, default: BodyRecord()])
    }
  }

  func bodyStarted(_ generator: Int, hooks: StressHooks) {
    bodiesStarted.add(1, ordering: .relaxed)
    if hooks == .scope { liveScopeBodies.add(1, ordering: .relaxed) }
    let starts = withBody(generator) { record in
      record.starts += 1
      record.hooks = hooks
      return record.starts
    }
    if starts > 1 { violation("g\(generator): the body started \(starts) times") }
  }

  func bodyEnded(_ generator: Int, hooks: StressHooks) {
    if hooks == .scope { liveScopeBodies.subtract(1, ordering: .relaxed) }
    let ends = withBody(generator) { record in
      record.ends += 1
      return record.ends
    }
    if ends > 1 { violation("g\(generator): the body ended \(ends) times") }
    bodiesEnded.add(1, ordering: .releasing)
    madeProgress()
  }

  func cleanupEntered(_ generator: Int) {
    cleanupsRun.add(1, ordering: .relaxed)
    let entered = withBody(generator) { record in
      record.cleanupsEntered += 1
      return record.cleanupsEntered
    }
    if entered > 1 { violation("g\(generator): the cleanup ran \(entered) times") }
  }

  func cleanupFinished(_ generator: Int) {
    withBody(generator) { $0.cleanupsFinished += 1 }
  }

  func bodyIsAt(_ generator: Int, _ place: String) {
    withBody(generator) { $0.place = place }
  }

  /// The bodies started and not ended, and where each is.
  func describeLiveBodies(limit: Int = 20) -> String {
    var lines: [String] = []
    for shard in bodies {
      for (generator, record) in shard.withLock({ $0 }) where record.starts > record.ends {
        lines.append("  g\(generator) (hooks \(record.hooks)): \(record.place)")
      }
    }
    return lines.sorted().prefix(limit).joined(separator: "\n")
  }

  // MARK: Elements

  /// The body of `token`'s generator is about to yield it, meant for `destination`.
  func yielded(_ token: Int, destination: Int) {
    elementsYielded.add(1, ordering: .relaxed)
    let duplicate = tokens[StressToken.generator(of: token) % Self.shardCount].withLock {
      records -> Bool in
      if records[token] != nil { return true }
      records[token] = TokenRecord(destination: destination)
      return false
    }
    if duplicate { violation("\(StressToken.describe(token)) was yielded twice") }
  }

  /// Call `callID` on generator `generator`, begun at tick `start`, returned `token`.
  func delivered(_ token: Int, generator: Int, to callID: Int, start: Int, what: String) {
    elementsDelivered.add(1, ordering: .relaxed)
    let place = "\(what) #\(callID) on g\(generator)"
    if StressToken.generator(of: token) != generator {
      violation("\(place) got \(StressToken.describe(token)), another generator's element")
    }
    let problem = tokens[StressToken.generator(of: token) % Self.shardCount].withLock {
      records -> String? in
      guard var record = records[token] else { return "never yielded" }
      defer { records[token] = record }
      if record.receivedBy != 0 { return "already delivered to call #\(record.receivedBy)" }
      record.receivedBy = callID
      if record.destination == StressDestination.nobody {
        return "yielded in answer to close(), so meant for nobody"
      }
      if record.destination > 0, record.destination != callID {
        return "meant for call #\(record.destination)"
      }
      return nil
    }
    if let problem { violation("\(place) got \(StressToken.describe(token)), \(problem)") }
    if let closed = closedAt.withLock({ $0[generator] }), closed < start {
      violation("\(place) got an element though a close() had returned before the call began")
    }
  }

  /// A `close()` on `generator` returned normally at tick `end`.
  func closed(_ generator: Int, at end: Int) {
    closedAt.withLock { closedAt in
      if closedAt[generator].map({ end < $0 }) ?? true { closedAt[generator] = end }
    }
  }

  // MARK: Finalization reports

  func finalizationReported(_ error: any Error, via path: String) {
    finalizationReports.add(1, ordering: .relaxed)
    switch error {
    case AsyncGeneratorError.ignoredGeneratorExit:
      count("reported \(path): ignoredGeneratorExit")
    case AsyncGeneratorError.alreadyRunning:
      // The close that ends a prefetching iteration early races with the calls other workers
      // make on the same (live) generator.
      count("reported \(path): alreadyRunning")
    case is StressCleanupFailure, is StressBodyFailure, is StressInjected:
      count("reported \(path): body error")
    default:
      violation("finalization (\(path)) reported an unexpected error: \(error)")
    }
  }

  // MARK: The end

  func report() -> StressReport {
    var report = StressReport()
    report.seed = seed
    report.operations = operations.load(ordering: .acquiring)
    report.calls = calls.load(ordering: .acquiring)
    report.generators = nextGeneratorID.load(ordering: .acquiring) - 1
    report.bodiesStarted = bodiesStarted.load(ordering: .acquiring)
    report.bodiesEnded = bodiesEnded.load(ordering: .acquiring)
    report.liveBodiesAtEnd = liveBodies
    report.cleanupsRun = cleanupsRun.load(ordering: .acquiring)
    report.elementsYielded = elementsYielded.load(ordering: .acquiring)
    report.elementsDelivered = elementsDelivered.load(ordering: .acquiring)
    report.alreadyRunning = alreadyRunning.load(ordering: .acquiring)
    report.cancellations = cancellations.load(ordering: .acquiring)
    report.prefetchIterations = prefetchIterations.load(ordering: .acquiring)
    report.finalizationReports = finalizationReports.load(ordering: .acquiring)
    report.outcomes = outcomeCounts.withLock { $0 }
    // Every body that started ended and ran its cleanup exactly once, to its end.
    for shard in bodies {
      for (generator, record) in shard.withLock({ $0 }) where record.starts > 0 {
        if record.ends != record.starts {
          violation("g\(generator): the body started but did not end")
        }
        if record.cleanupsEntered == 0 {
          report.cleanupsMissing += 1
          violation("g\(generator): the body started but its cleanup never ran")
        } else if record.cleanupsFinished != record.cleanupsEntered {
          violation("g\(generator): the cleanup began but did not finish")
        }
      }
    }
    report.violationCount = violationCount.load(ordering: .acquiring)
    report.violations = violationList.withLock { $0 }
    return report
  }

  func describeActivities() -> String {
    let now = ContinuousClock.now
    return activities.withLock { activities in
      activities.enumerated().map { index, activity in
        "  worker \(index): \(activity.operation) call #\(activity.callID) on g\(activity.generator)"
          + " for \(now - activity.since)"
      }.joined(separator: "\n")
    }
  }
}

// MARK: - Bodies

/// What a body does, drawn from its own seeded generator.
struct StressBodyPlan: Sendable {
  enum Step: Sendable {
    /// Yield the next token; `catches` says whether an injected error is caught there.
    case yield(catches: Bool)
    case pause
    case sleep(microseconds: Int)
    case fail
    case finish
  }

  enum CleanupStep: Sendable {
    case pause
    case sleep(microseconds: Int)
    /// Yield in cleanup, whatever comes back (a second close throws GeneratorExit again).
    case yield
  }

  var steps: [Step] = []
  var cleanup: [CleanupStep] = []
  var cleanupFails = false

  static func random(using random: inout StressRandom) -> StressBodyPlan {
    var plan = StressBodyPlan()
    for _ in 0..<random.int(0...24) {
      plan.steps.append(
        random.pick([
          (.yield(catches: false), 40), (.yield(catches: true), 25), (.pause, 12),
          (.sleep(microseconds: random.int(1...50)), 6), (.fail, 2), (.finish, 2),
        ]))
    }
    for _ in 0..<random.int(0...3) {
      plan.cleanup.append(
        random.pick([(.pause, 4), (.sleep(microseconds: random.int(1...30)), 1), (.yield, 3)]))
    }
    plan.cleanupFails = random.chance(8)
    return plan
  }
}

enum StressBody {
  /// Where a body is: the next sequence number, and for whom its next element is.
  struct Cursor {
    let generator: Int
    var sequence = 0
    var destination = StressDestination.anyone
  }

  /// A generator with a random body, and the hooks its calls run under.
  static func make(
    _ generator: Int, seed: UInt64, libraryFinalization: Bool, ledger: StressLedger
  ) -> (StressGenerator, StressHooks) {
    var random = StressRandom(seed: seed ^ (UInt64(generator) &* 0xD1B5_4A32_D192_ED03))
    let plan = StressBodyPlan.random(using: &random)
    let hooks = StressHooks.random(using: &random, libraryFinalization: libraryFinalization)
    let made = StressGenerator { yield in
      try await run(plan, generator: generator, hooks: hooks, ledger: ledger, yield: yield)
    }
    return (made, hooks)
  }

  static func run(
    _ plan: StressBodyPlan, generator: Int, hooks: StressHooks, ledger: StressLedger,
    yield: StressGenerator.Yield
  ) async throws {
    ledger.bodyStarted(generator, hooks: hooks)
    defer { ledger.bodyEnded(generator, hooks: hooks) }
    var cursor = Cursor(generator: generator)
    do {
      try await runSteps(plan.steps, &cursor, ledger, yield)
    } catch {
      try await cleanup(plan, after: error, &cursor, ledger, yield)
      return
    }
    try await cleanup(plan, after: nil, &cursor, ledger, yield)
  }

  private static func runSteps(
    _ steps: [StressBodyPlan.Step], _ cursor: inout Cursor, _ ledger: StressLedger,
    _ yield: StressGenerator.Yield
  ) async throws {
    for (index, step) in steps.enumerated() {
      ledger.bodyIsAt(cursor.generator, "main step \(index): \(step)")
      switch step {
      case .yield(let catches):
        do {
          try await emit(&cursor, ledger, yield)
        } catch is StressInjected where catches {
          ledger.count("body caught an injected error")
        }
      case .pause:
        await Task.yield()
      case .sleep(let microseconds):
        try await Task.sleep(for: .microseconds(microseconds))
      case .fail:
        throw StressBodyFailure(generator: cursor.generator)
      case .finish:
        return
      }
    }
  }

  /// Runs on every path out of the body, exactly once: awaits, may yield, may throw.
  private static func cleanup(
    _ plan: StressBodyPlan, after error: (any Error)?, _ cursor: inout Cursor,
    _ ledger: StressLedger, _ yield: StressGenerator.Yield
  ) async throws {
    ledger.cleanupEntered(cursor.generator)
    for (index, step) in plan.cleanup.enumerated() {
      ledger.bodyIsAt(
        cursor.generator,
        "cleanup step \(index): \(step), after \(error.map { "\($0)" } ?? "return")")
      switch step {
      case .pause:
        await Task.yield()
      case .sleep(let microseconds):
        try? await Task.sleep(for: .microseconds(microseconds))
      case .yield:
        do {
          try await emit(&cursor, ledger, yield)
        } catch {
          // GeneratorExit again (a second close), an injected error, a cancellation: the
          // cleanup goes on regardless.
        }
      }
    }
    ledger.cleanupFinished(cursor.generator)
    ledger.bodyIsAt(cursor.generator, "ending")
    if plan.cleanupFails { throw StressCleanupFailure(generator: cursor.generator) }
    if let error { throw error }
  }

  /// Yields the next token, recording for whom it is, and notes who resumed the body.
  private static func emit(
    _ cursor: inout Cursor, _ ledger: StressLedger, _ yield: StressGenerator.Yield
  ) async throws {
    let token = StressToken.make(generator: cursor.generator, sequence: cursor.sequence)
    cursor.sequence += 1
    ledger.yielded(token, destination: cursor.destination)
    do {
      let sent = try await yield(token)
      cursor.destination = sent ?? StressDestination.anyone
    } catch let injected as StressInjected {
      cursor.destination = injected.callID
      throw injected
    } catch is GeneratorExit {
      // close(): an element yielded in answer is never delivered.
      cursor.destination = StressDestination.nobody
      throw GeneratorExit()
    }
  }
}

// MARK: - Generator slots

/// The generators the workers share; dropping one replaces it with a fresh generator.
final class StressPool: Sendable {
  struct Entry: Sendable {
    let id: Int
    let generator: StressGenerator
    let hooks: StressHooks
  }

  private let slots: StressLocked<[Entry]>
  private let ledger: StressLedger
  private let seed: UInt64
  private let libraryFinalization: Bool

  init(count: Int, seed: UInt64, libraryFinalization: Bool, ledger: StressLedger) {
    self.ledger = ledger
    self.seed = seed
    self.libraryFinalization = libraryFinalization
    slots = StressLocked([])
    let entries = (0..<count).map { _ in makeEntry() }
    slots.withLock { $0 = entries }
  }

  var count: Int { slots.withLock { $0.count } }

  private func makeEntry() -> Entry {
    let id = ledger.newGeneratorID()
    let (generator, hooks) = StressBody.make(
      id, seed: seed, libraryFinalization: libraryFinalization, ledger: ledger)
    return Entry(id: id, generator: generator, hooks: hooks)
  }

  func entry(_ slot: Int) -> Entry {
    slots.withLock { $0[slot] }
  }

  /// Drops the generator in `slot` (if it is still `id`'s) for a fresh one. The old one is
  /// finalized when its last reference goes away.
  func replace(_ slot: Int, ifStill id: Int) {
    let fresh = makeEntry()
    let old: Entry? = slots.withLock { slots in
      guard slots[slot].id == id else { return nil }
      defer { slots[slot] = fresh }
      return slots[slot]
    }
    _ = old  // Released here, outside the lock: its deinit may start finalization.
  }

  /// Takes every generator out of the pool.
  func removeAll() -> [Entry] {
    slots.withLock { slots in
      defer { slots = [] }
      return slots
    }
  }
}

// MARK: - The run

enum StressEngine {
  static func run(_ configuration: StressConfiguration) async -> StressReport {
    let ledger = StressLedger(seed: configuration.seed, workers: configuration.workers)
    let baseline = AsyncGeneratorDiagnostics.liveBodyTasks
    let previousHandler = AsyncGeneratorHooks.uncaughtErrorHandler
    if configuration.libraryFinalization {
      AsyncGeneratorHooks.uncaughtErrorHandler = { error in
        ledger.finalizationReported(error, via: "library")
      }
    }
    let watchdog = StressWatchdog(
      ledger: ledger, timeout: configuration.stallTimeout, onStall: configuration.onStall)
    watchdog.start()
    let start = ContinuousClock.now

    let onError: @Sendable (any Error) -> Void = { ledger.finalizationReported($0, via: "scope") }
    await withAsyncGeneratorScope(onError: onError) { _ in
      let pool = StressPool(
        count: configuration.workers + configuration.sharedSlots, seed: configuration.seed,
        libraryFinalization: configuration.libraryFinalization, ledger: ledger)
      ledger.phase.withLock { $0 = "the workers run" }
      await withTaskGroup(of: Void.self) { group in
        for index in 0..<configuration.workers {
          let share =
            configuration.operations / configuration.workers
            + (index < configuration.operations % configuration.workers ? 1 : 0)
          group.addTask {
            var worker = StressWorker(
              index: index, operations: share, configuration: configuration, pool: pool,
              ledger: ledger)
            await worker.run()
          }
        }
      }
      await drain(pool, ledger)
      ledger.phase.withLock { $0 = "the scope exits (closing what it tracks)" }
    }
    ledger.phase.withLock { $0 = "settling (waiting for finalization to end every body)" }
    // The scope returns only when the closes of the generators it tracks have finished.
    let scopeBodies = ledger.liveScopeBodies.load(ordering: .acquiring)
    if scopeBodies != 0 {
      ledger.violation(
        "the scope returned while \(scopeBodies) bodies of generators it tracks were running")
    }

    // Generators left to finalizers and to the library end in tasks of their own.
    let settleTimeout = min(configuration.settleTimeout, configuration.stallTimeout / 2)
    let settleBy = ContinuousClock.now.advanced(by: settleTimeout)
    func settled() -> Bool {
      ledger.liveBodies == 0
        && (!configuration.exactLiveBodyTasks
          || AsyncGeneratorDiagnostics.liveBodyTasks <= baseline)
    }
    while !settled(), ContinuousClock.now < settleBy {
      try? await Task.sleep(for: .milliseconds(2))
    }
    let duration = ContinuousClock.now - start
    watchdog.stop()
    if configuration.libraryFinalization {
      AsyncGeneratorHooks.uncaughtErrorHandler = previousHandler
    }

    var report = ledger.report()
    report.duration = duration
    report.stalled = watchdog.fired
    report.liveBodyTasksBaseline = baseline
    report.liveBodyTasksAtEnd = AsyncGeneratorDiagnostics.liveBodyTasks
    if report.liveBodiesAtEnd != 0 {
      report.violationCount += 1
      report.violations.append(
        "\(report.liveBodiesAtEnd) bodies still running \(settleTimeout) after "
          + "everything was closed and dropped:\n" + ledger.describeLiveBodies())
    }
    if configuration.exactLiveBodyTasks, report.liveBodyTasksAtEnd != baseline {
      report.violationCount += 1
      report.violations.append(
        "AsyncGeneratorDiagnostics.liveBodyTasks is \(report.liveBodyTasksAtEnd), "
          + "not back to \(baseline)")
    }
    return report
  }

  /// Closes every generator left in the pool (closing again while a body yields in its
  /// cleanup, or while a finalizer's close is under way), then drops them all.
  private static func drain(_ pool: StressPool, _ ledger: StressLedger) async {
    for entry in pool.removeAll() {
      ledger.madeProgress()
      ledger.phase.withLock { $0 = "draining: closing g\(entry.id)" }
      let giveUp = ContinuousClock.now.advanced(by: .seconds(10))
      var lastError: (any Error)?
      while entry.generator.state != .closed, ContinuousClock.now < giveUp {
        do {
          try await entry.generator.close()
        } catch {
          lastError = error
          if case AsyncGeneratorError.alreadyRunning = error {
            try? await Task.sleep(for: .microseconds(200))
          }
        }
      }
      if entry.generator.state != .closed {
        ledger.violation(
          "g\(entry.id) could not be closed at the end (state \(entry.generator.state), "
            + "last error \(lastError.map { "\($0)" } ?? "none"))")
      }
    }
  }
}

// MARK: - Workers

struct StressWorker {
  enum Operation {
    case next, send, throwInjected, close, closing, burst, cancelled, prefetch, state, drop, pause
  }

  /// The single calls an operation makes.
  enum Call {
    case next, send, throwInjected, close, closing, prefetch

    var name: String {
      switch self {
      case .next: "next"
      case .send: "send"
      case .throwInjected: "throw"
      case .close: "close"
      case .closing: "closing"
      case .prefetch: "prefetching"
      }
    }
  }

  let index: Int
  let operations: Int
  let configuration: StressConfiguration
  let pool: StressPool
  let ledger: StressLedger
  var random: StressRandom

  init(
    index: Int, operations: Int, configuration: StressConfiguration, pool: StressPool,
    ledger: StressLedger
  ) {
    self.index = index
    self.operations = operations
    self.configuration = configuration
    self.pool = pool
    self.ledger = ledger
    random = StressRandom(seed: configuration.seed &+ UInt64(index + 1) &* 0xA24B_AED4_963E_E407)
  }

  mutating func run() async {
    let slots = pool.count
    for done in 0..<operations {
      // Mostly the worker's own slot (runs of calls on the fast path), else anyone's.
      let slot = random.chance(70) ? index : random.int(0...(slots - 1))
      let entry = pool.entry(slot)
      await perform(
        random.pick([
          (Operation.next, 20), (.send, 20), (.throwInjected, 7), (.close, 6), (.closing, 3),
          (.burst, 8), (.cancelled, 10), (.prefetch, 5), (.state, 3), (.drop, 3), (.pause, 3),
        ]), on: entry, slot: slot)
      if entry.generator.state == .closed, random.chance(80) {
        pool.replace(slot, ifStill: entry.id)
      }
      ledger.operations.add(1, ordering: .relaxed)
      ledger.madeProgress()
      if configuration.progressInterval > 0, (done + 1) % configuration.progressInterval == 0 {
        configuration.progress?(ledger.operations.load(ordering: .relaxed))
      }
    }
    ledger.setActivity(index, "done")
  }

  private mutating func perform(_ operation: Operation, on entry: StressPool.Entry, slot: Int)
    async
  {
    switch operation {
    case .next: await call(.next, on: entry)
    case .send: await call(.send, on: entry)
    case .throwInjected: await call(.throwInjected, on: entry)
    case .close: await call(.close, on: entry)
    case .closing: await call(.closing, on: entry)
    case .prefetch: await call(.prefetch, on: entry)
    case .burst:
      for _ in 0..<random.int(2...12) {
        await call(random.chance(50) ? .send : .next, on: entry)
      }
    case .cancelled:
      await cancelledCall(
        random.pick([(Call.next, 4), (.send, 4), (.close, 2), (.prefetch, 1)]),
        on: entry)
    case .state:
      _ = entry.generator.state
    case .drop:
      pool.replace(slot, ifStill: entry.id)
    case .pause:
      if random.chance(50) {
        await Task.yield()
      } else {
        try? await Task.sleep(for: .microseconds(random.int(1...100)))
      }
    }
  }

  /// Makes one call and checks its outcome.
  /// How far a prefetching iteration runs ahead, and how many elements it takes before it
  /// breaks.
  private mutating func prefetchShape(for entry: StressPool.Entry) -> (Int, Int) {
    (random.int(1...8), random.int(0...10))
  }

  private mutating func call(_ call: Call, on entry: StressPool.Entry) async {
    let prefetch = prefetchShape(for: entry)
    let callID = ledger.newCallID()
    ledger.setActivity(index, call.name, generator: entry.id, callID: callID)
    await Self.withHooks(entry.hooks, ledger) {
      await Self.perform(call, on: entry, callID: callID, prefetch: prefetch, ledger: ledger)
    }
  }

  /// Makes one call in a task of its own and cancels it: before it calls, at once, after a
  /// moment, or not at all.
  private mutating func cancelledCall(_ call: Call, on entry: StressPool.Entry) async {
    let prefetch = prefetchShape(for: entry)
    let when = random.pick([(0, 2), (1, 3), (2, 3), (3, 2), (4, 1)])
    let callID = ledger.newCallID()
    ledger.setActivity(index, "cancelled \(call.name)", generator: entry.id, callID: callID)
    ledger.cancellations.add(1, ordering: .relaxed)
    let ledger = ledger
    let task = Task {
      if when == 0 { withUnsafeCurrentTask { $0?.cancel() } }
      await Self.withHooks(entry.hooks, ledger) {
        await Self.perform(call, on: entry, callID: callID, prefetch: prefetch, ledger: ledger)
      }
    }
    switch when {
    case 1: task.cancel()
    case 2:
      await Task.yield()
      task.cancel()
    case 3:
      try? await Task.sleep(for: .microseconds(20))
      task.cancel()
    default: break
    }
    await task.value
  }

  /// Runs `body` under the generator's hooks (they matter to its first call only: the
  /// first call reads them).
  private static func withHooks(
    _ hooks: StressHooks, _ ledger: StressLedger, _ body: () async -> Void
  ) async {
    switch hooks {
    case .scope:
      await body()
    case .none:
      await withAsyncGeneratorHooks(AsyncGeneratorHooks()) { await body() }
    case .spawnFinalizer:
      let finalizer: @Sendable (AnyAsyncGenerator) -> Void = { handle in
        Task {
          await handle.finalize { ledger.finalizationReported($0, via: "finalizer") }
        }
      }
      await withAsyncGeneratorHooks(AsyncGeneratorHooks(finalizer: finalizer)) { await body() }
    case .dropHandle:
      // The finalizer lets the handle go: the library must then finalize the generator.
      await withAsyncGeneratorHooks(AsyncGeneratorHooks(finalizer: { _ in })) { await body() }
    }
  }

  private static func perform(
    _ call: Call, on entry: StressPool.Entry, callID: Int, prefetch: (Int, Int),
    ledger: StressLedger
  ) async {
    let generator = entry.generator
    let start = ledger.tick()
    ledger.calls.add(1, ordering: .relaxed)
    do {
      switch call {
      case .next:
        check(try await generator.next(), call, entry, callID, start, ledger)
      case .send:
        check(try await generator.send(callID), call, entry, callID, start, ledger)
      case .throwInjected:
        check(
          try await generator.throw(StressInjected(callID: callID)), call, entry, callID, start,
          ledger)
      case .close:
        try await generator.close()
        closedNormally(entry, ledger)
      case .closing:
        let element = try await generator.closing { generator in
          let element = try await generator.send(callID)
          if let element {
            ledger.delivered(
              element, generator: entry.id, to: callID, start: start, what: call.name)
          }
          return element
        }
        ledger.count("closing: \(element == nil ? "nil" : "element"), closed")
        closedNormally(entry, ledger)
      case .prefetch:
        ledger.prefetchIterations.add(1, ordering: .relaxed)
        let (ahead, take) = prefetch
        var taken = 0
        var ended = true
        for try await element in generator.prefetching(ahead) {
          ledger.delivered(element, generator: entry.id, to: callID, start: start, what: call.name)
          taken += 1
          if taken >= take {
            ended = false
            break
          }
        }
        ledger.count(ended ? "prefetching: to the end" : "prefetching: broke early")
        if ended, generator.state != .closed {
          ledger.violation(
            "prefetching #\(callID) on g\(entry.id) ended, but the generator is "
              + "\(generator.state)")
        }
      }
    } catch {
      classify(error, call, entry, callID, ledger)
    }
  }

  private static func check(
    _ element: Int?, _ call: Call, _ entry: StressPool.Entry, _ callID: Int, _ start: Int,
    _ ledger: StressLedger
  ) {
    if let element {
      ledger.count("\(call.name): element")
      ledger.delivered(element, generator: entry.id, to: callID, start: start, what: call.name)
    } else {
      ledger.count("\(call.name): nil")
      let state = entry.generator.state
      if state != .closed {
        ledger.violation("\(call.name) #\(callID) on g\(entry.id) returned nil, state \(state)")
      }
    }
  }

  private static func closedNormally(_ entry: StressPool.Entry, _ ledger: StressLedger) {
    ledger.closed(entry.id, at: ledger.tick())
    ledger.count("close: ok")
    let state = entry.generator.state
    if state != .closed {
      ledger.violation("a close() on g\(entry.id) returned normally, but the state is \(state)")
    }
  }

  private static func classify(
    _ error: any Error, _ call: Call, _ entry: StressPool.Entry, _ callID: Int,
    _ ledger: StressLedger
  ) {
    let allowed: Bool
    let name: String
    switch error {
    case AsyncGeneratorError.alreadyRunning:
      ledger.alreadyRunning.add(1, ordering: .relaxed)
      (name, allowed) = ("alreadyRunning", true)
    case AsyncGeneratorError.sendToJustStarted:
      (name, allowed) = ("sendToJustStarted", call == .send || call == .closing)
    case AsyncGeneratorError.ignoredGeneratorExit:
      (name, allowed) = ("ignoredGeneratorExit", call == .close || call == .closing)
    case is CancellationError:
      (name, allowed) = ("CancellationError", true)
    case is GeneratorExit:
      // A call that resumed a body parked in its cleanup gets the GeneratorExit it rethrows;
      // a close() never does.
      (name, allowed) = ("GeneratorExit", call != .close)
    case is StressInjected:
      (name, allowed) = ("injected error", true)
    case is StressBodyFailure:
      (name, allowed) = ("body error", true)
    case is StressCleanupFailure:
      (name, allowed) = ("cleanup error", true)
    default:
      (name, allowed) = ("\(error)", false)
    }
    ledger.count("\(call.name): \(name)")
    if !allowed {
      ledger.violation("\(call.name) #\(callID) on g\(entry.id) threw \(name)")
    }
  }
}

// MARK: - Watchdog

/// A thread (not a task: it must run even if every task is stuck) that fires when the run
/// makes no progress for `timeout`.
final class StressWatchdog: @unchecked Sendable {
  private let ledger: StressLedger
  private let timeout: Duration
  private let onStall: @Sendable (String) -> Void
  private let state = StressLocked((stopped: false, fired: false))

  init(ledger: StressLedger, timeout: Duration, onStall: @escaping @Sendable (String) -> Void) {
    self.ledger = ledger
    self.timeout = timeout
    self.onStall = onStall
  }

  var fired: Bool { state.withLock { $0.fired } }

  func start() {
    let thread = Thread { [self] in watch() }
    thread.name = "stress watchdog"
    thread.start()
  }

  func stop() {
    state.withLock { $0.stopped = true }
  }

  private func watch() {
    var last = ledger.progress.load(ordering: .relaxed)
    var lastChange = ContinuousClock.now
    while !state.withLock({ $0.stopped }) {
      Thread.sleep(forTimeInterval: 0.1)
      let now = ContinuousClock.now
      let current = ledger.progress.load(ordering: .relaxed)
      if current != last {
        last = current
        lastChange = now
      } else if now - lastChange > timeout {
        state.withLock { $0.fired = true }
        onStall(
          "stress: no progress for \(timeout) (seed \(ledger.seed)) while "
            + "\(ledger.phase.withLock { $0 }); \(ledger.liveBodies) bodies running, "
            + "liveBodyTasks \(AsyncGeneratorDiagnostics.liveBodyTasks); workers:\n"
            + ledger.describeActivities() + "\nbodies running:\n" + ledger.describeLiveBodies())
        return
      }
    }
  }
}
