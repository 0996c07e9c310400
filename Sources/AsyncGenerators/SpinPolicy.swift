import CAsyncGeneratorsRuntime
import Synchronization

#if canImport(Darwin)
  import Darwin
#elseif canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#endif

/// How long each side of the handoff spins before parking.
///
/// Spinning is what makes a handoff cheap: a parked task costs microseconds to resume. But a
/// spinner burns its core, and spinning only pays while the partner answers within the spin.
/// So each side keeps an estimate of how long it has been waiting for its partner (a moving
/// average of recent waits, parks included: `SpinEstimate`) and spins for about twice that,
/// between `minimumSpin` and `maximumSpin`; when the partner is slower than that (a consumer
/// that does real work between elements, say), it parks at once. After a side has parked,
/// the partner that wakes it must spin through that wake-up to get both running again:
/// waits of a wake-up's length teach it to. Nobody spins on a single core, or when the body
/// and the consumer share a serial executor (the same actor or task executor), where the
/// spinner would only delay its own partner.
@usableFromInline
struct SpinPolicy: ~Copyable {
  /// The shortest spin, in nanoseconds: a handoff between two running tasks settles well
  /// within it.
  @inlinable static var minimumSpin: Int { 2_000 }
  /// The longest: a few wake-ups of a parked task.
  @inlinable static var maximumSpin: Int { 40_000 }
  /// Beyond `maximumSpin`, one wait in this many spins the longest anyway (see `budget`).
  @inlinable static var probeInterval: UInt32 { 8 }

  /// The serial executor the body runs on (its actor, or its task executor), 0 if none.
  @usableFromInline let bodyExecutor = Atomic<UInt>(0)
  @usableFromInline let sharedExecutor = Atomic<Bool>(false)

  @usableFromInline init() {}

  /// How long a consumer running with `isolation` spins, in nanoseconds, by its estimate.
  @inlinable
  func consumerBudget(
    isolation: (any Actor)?, _ estimate: borrowing SpinEstimate, body: borrowing SpinEstimate
  ) -> Int {
    guard spinningPays else { return 0 }
    let bodyExecutor = bodyExecutor.load(ordering: .relaxed)
    // Only a body on a serial executor can share one with its consumer.
    let shared = bodyExecutor != 0 && executorKey(isolation: isolation) == bodyExecutor
    if shared != sharedExecutor.load(ordering: .relaxed) {
      sharedExecutor.store(shared, ordering: .relaxed)
    }
    return shared ? 0 : estimate.budget(partner: body)
  }

  /// How long the body spins at a yield, in nanoseconds, by its estimate.
  @inlinable
  func bodyBudget(_ estimate: borrowing SpinEstimate, consumer: borrowing SpinEstimate) -> Int {
    guard spinningPays, !sharedExecutor.load(ordering: .relaxed) else { return 0 }
    return estimate.budget(partner: consumer)
  }
}

/// One side's expected wait for its partner, learnt from its recent waits, and the thread it
/// last ran on. Each side's lives among that side's own fields: it is written as waits (and
/// threads) change, and on the partner's cache line every such write would cost the partner
/// a miss.
@usableFromInline
struct SpinEstimate: ~Copyable {
  /// In nanoseconds.
  @usableFromInline let expected = Atomic<UInt32>(0)
  @usableFromInline let probes = Atomic<UInt32>(0)
  @usableFromInline let thread = Atomic<UInt>(0)

  @usableFromInline init() {}

  /// Notes the thread this side runs on now; true if the partner last ran on it too. Then
  /// the partner may be unable to run while this side spins (a pool with a single thread
  /// free, a single-threaded executor): this side must not spin.
  @inlinable
  func sharesThread(with partner: borrowing SpinEstimate) -> Bool {
    let current = UInt(ag_current_thread())
    if thread.load(ordering: .relaxed) != current { thread.store(current, ordering: .relaxed) }
    return partner.thread.load(ordering: .relaxed) == current
  }

  /// How long to spin, in nanoseconds.
  @inlinable
  func budget(partner: borrowing SpinEstimate) -> Int {
    let expected = Int(self.expected.load(ordering: .relaxed))
    // Recent waits were not instant: make sure the partner can run at all while this side
    // spins. (Checked only then: the fast steady state reads no threads.)
    if expected > SpinPolicy.minimumSpin / 2, sharesThread(with: partner) { return 0 }
    guard expected > SpinPolicy.maximumSpin else {
      return Swift.min(Swift.max(2 * expected, SpinPolicy.minimumSpin), SpinPolicy.maximumSpin)
    }
    // A slow partner, or both sides parking in turn (each then waits for the other's
    // wake-up): park at once, but every few waits spin the longest, which escapes the latter.
    let probe = probes.wrappingAdd(1, ordering: .relaxed).newValue
    return probe % SpinPolicy.probeInterval == 0 ? SpinPolicy.maximumSpin : 0
  }

  /// Whether this side's partner keeps it waiting much longer than any spin: it then parks
  /// at every wait, and whoever wakes it is better off parking too than spinning through
  /// that wake-up.
  @inlinable
  var partnerIsSlow: Bool {
    Int(expected.load(ordering: .relaxed)) > 2 * SpinPolicy.maximumSpin
  }

  /// This side waited `nanoseconds` (0: within its first spins).
  @inlinable
  func waited(_ nanoseconds: UInt64) {
    let old = UInt64(expected.load(ordering: .relaxed))
    let new = (3 * old + Swift.min(nanoseconds, UInt64(UInt32.max))) / 4
    // Small changes are not worth a write (nor the partner, a cache miss).
    let change = new > old ? new - old : old - new
    guard change > 256, change > old / 8 else { return }
    expected.store(UInt32(new), ordering: .relaxed)
  }
}

/// Whether spinning can pay at all: not with a single CPU to run on (the partner could not
/// run while this side spins).
@usableFromInline let spinningPays = ag_usable_cpu_count() > 1

/// The serial executor code with `isolation` runs on: its actor, else the current task's
/// executor preference, else 0 (the global concurrent executor).
@usableFromInline
func executorKey(isolation: (any Actor)?) -> UInt {
  if let isolation { return UInt(bitPattern: ObjectIdentifier(isolation).hashValue) }
  return withUnsafeCurrentTask { task in
    task?.unownedTaskExecutor.map { unsafeBitCast($0, to: (UInt, UInt).self).0 } ?? 0
  }
}

/// A bounded wait loop: pauses until its time is up (read from the clock only every few
/// rounds, and not at all when the wait ends within them), and times the wait.
@usableFromInline
struct SpinWait {
  @usableFromInline var nanoseconds: Int
  /// When the wait began to be timed (0: not yet, as it ended within its first rounds).
  @usableFromInline var start: UInt64 = 0
  @usableFromInline var rounds: UInt32 = 0

  /// A wait of up to `nanoseconds` (0: no wait at all).
  @inlinable
  init(nanoseconds: Int) {
    self.nanoseconds = nanoseconds
  }

  /// Pauses for a moment; false, without pausing, once the time is up.
  @inlinable
  mutating func pause() -> Bool {
    guard nanoseconds > 0 else { return false }
    // Pausing between reads (rather than re-reading at once) leaves the partner's writes to
    // the word uncontended, which measured faster handoffs, not slower.
    ag_spin_pause()
    rounds &+= 1
    guard rounds & 15 == 0 else { return true }
    let now = ag_monotonic_nanoseconds()
    if start == 0 {
      start = now
    } else if now &- start > UInt64(nanoseconds) {
      nanoseconds = 0
      return false
    }
    return true
  }

  /// Starts timing, if the spinning has not (before a park).
  @inlinable
  mutating func startTiming() {
    if start == 0 { start = ag_monotonic_nanoseconds() }
  }

  /// How long the wait lasted: 0 if it ended within its first rounds.
  @inlinable
  func elapsed() -> UInt64 {
    start == 0 ? 0 : ag_monotonic_nanoseconds() &- start
  }

  /// Every 256 rounds: the moment for an occasional check (a cancellation, say).
  @inlinable var isCheckpoint: Bool { rounds & 255 == 0 }
}
