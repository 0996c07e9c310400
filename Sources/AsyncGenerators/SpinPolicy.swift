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
/// average of recent waits, parks included) and spins for about twice that, between
/// `minimumSpin` and `maximumSpin`; when the partner is slower than that (a consumer that
/// does real work between elements, say), it parks at once. After a side has parked, the
/// partner that wakes it must spin through that wake-up to get both running again: waits of
/// a wake-up's length teach it to. Nobody spins on a single core, or when the body and the
/// consumer share a serial executor (the same actor or task executor), where the spinner
/// would only delay its own partner.
@usableFromInline
struct SpinPolicy: ~Copyable {
  /// The shortest spin, in nanoseconds: a handoff between two running tasks settles well
  /// within it.
  @inlinable static var minimumSpin: Int { 2_000 }
  /// The longest: a few wake-ups of a parked task.
  @inlinable static var maximumSpin: Int { 40_000 }

  /// The expected waits, in nanoseconds: the consumer's in the low 32 bits, the body's in
  /// the high. While both stay near zero (a fast partner) nothing writes this word, so the
  /// spinners' shared cache line stays quiet.
  @usableFromInline let expectedWaits = Atomic<UInt64>(0)
  /// The serial executor the body runs on (its actor, or its task executor), 0 if none.
  @usableFromInline let bodyExecutor = Atomic<UInt>(0)
  @usableFromInline let sharedExecutor = Atomic<Bool>(false)

  @usableFromInline init() {}

  @inlinable static var consumer: UInt64 { 0 }
  @inlinable static var body: UInt64 { 32 }

  /// How long a consumer running with `isolation` spins, in nanoseconds.
  @inlinable
  func consumerBudget(isolation: (any Actor)?) -> Int {
    guard spinningPays else { return 0 }
    let body = bodyExecutor.load(ordering: .relaxed)
    // Only a body on a serial executor can share one with its consumer.
    let shared = body != 0 && executorKey(isolation: isolation) == body
    if shared != sharedExecutor.load(ordering: .relaxed) {
      sharedExecutor.store(shared, ordering: .relaxed)
    }
    return shared ? 0 : budget(side: Self.consumer)
  }

  /// How long the body spins at a yield, in nanoseconds.
  @inlinable
  func bodyBudget() -> Int {
    guard spinningPays, !sharedExecutor.load(ordering: .relaxed) else { return 0 }
    return budget(side: Self.body)
  }

  @inlinable
  func budget(side: UInt64) -> Int {
    let expected = Int((expectedWaits.load(ordering: .relaxed) >> side) & 0xFFFF_FFFF)
    guard expected > Self.maximumSpin else {
      return Swift.min(Swift.max(2 * expected, Self.minimumSpin), Self.maximumSpin)
    }
    // A slow partner, or both sides parking in turn (each then waits for the other's
    // wake-up): park at once, but every few waits spin the longest, which escapes the latter.
    let probe = probes.wrappingAdd(1, ordering: .relaxed).newValue
    return probe % Self.probeInterval == 0 ? Self.maximumSpin : 0
  }

  @inlinable static var probeInterval: UInt32 { 8 }
  @usableFromInline let probes = Atomic<UInt32>(0)

  /// The consumer waited `nanoseconds` for its answer (0: within the first spins).
  @inlinable func consumerWaited(_ nanoseconds: UInt64) { waited(nanoseconds, side: Self.consumer) }
  /// The body waited `nanoseconds` at a yield for the next call.
  @inlinable func bodyWaited(_ nanoseconds: UInt64) { waited(nanoseconds, side: Self.body) }

  @inlinable
  func waited(_ nanoseconds: UInt64, side: UInt64) {
    var current = expectedWaits.load(ordering: .relaxed)
    while true {
      let old = (current >> side) & 0xFFFF_FFFF
      let sample = Swift.min(nanoseconds, 0xFFFF_FFFF)
      let new = (3 * old + sample) / 4
      guard new != old else { return }
      let desired = current & ~(0xFFFF_FFFF << side) | new << side
      let (exchanged, original) = expectedWaits.compareExchange(
        expected: current, desired: desired, ordering: .relaxed)
      if exchanged { return }
      current = original
    }
  }
}

/// Whether spinning can pay at all: not on a single core.
@usableFromInline let spinningPays = sysconf(Int32(_SC_NPROCESSORS_ONLN)) > 1

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
