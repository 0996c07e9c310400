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
/// Spinning is what makes a handoff cheap (a parked task costs microseconds to resume), but a
/// spinner burns its core: so each side spins only while spinning keeps paying off. After a
/// few parks in a row it stops spinning, and tries again once every `probeInterval` waits, so
/// a slow partner costs almost nothing and a partner that speeds up is noticed. Nobody spins
/// on a single core, or when the body and the consumer share a serial executor (the same
/// actor or task executor), where the spinner would only delay its own partner.
///
/// Its counters share one word (a generator's footprint counts); in steady state, while
/// spinning pays, nothing writes it.
@usableFromInline
struct SpinPolicy: ~Copyable {
  /// How long a side spins before parking, in nanoseconds: a handoff between two running
  /// tasks settles in a fraction of it; much longer only burns the core.
  @inlinable static var budget: Int { 4_000 }
  @inlinable static var parksBeforeBackingOff: Int { 3 }
  @inlinable static var probeInterval: Int { 32 }

  /// Per side (consumer at bit 0, body at bit 8): parks in a row (2 bits) and a probe counter
  /// (5 bits); bit 16: the two sides share a serial executor.
  @usableFromInline let counters = Atomic<Int>(0)
  /// The serial executor the body runs on (its actor, or its task executor), 0 if none.
  @usableFromInline let bodyExecutor = Atomic<UInt>(0)

  @usableFromInline init() {}

  @inlinable static var consumer: Int { 0 }
  @inlinable static var body: Int { 8 }
  @inlinable static var sharedBit: Int { 1 << 16 }

  /// Spins for a consumer running with `isolation`.
  @inlinable
  func consumerBudget(isolation: (any Actor)?) -> Int {
    guard spinningPays else { return 0 }
    let body = bodyExecutor.load(ordering: .relaxed)
    // Only a body on a serial executor can share one with its consumer.
    let shared = body != 0 && executorKey(isolation: isolation) == body
    let current = counters.load(ordering: .relaxed)
    if shared != (current & Self.sharedBit != 0) {
      update { shared ? $0 | Self.sharedBit : $0 & ~Self.sharedBit }
    }
    return shared ? 0 : budget(side: Self.consumer)
  }

  @inlinable
  func bodyBudget() -> Int {
    guard spinningPays, counters.load(ordering: .relaxed) & Self.sharedBit == 0 else { return 0 }
    return budget(side: Self.body)
  }

  @inlinable func consumerSucceeded() { succeeded(side: Self.consumer) }
  @inlinable func bodySucceeded() { succeeded(side: Self.body) }
  @inlinable func consumerParked() { parked(side: Self.consumer) }
  @inlinable func bodyParked() { parked(side: Self.body) }

  @inlinable
  func budget(side: Int) -> Int {
    let parks = (counters.load(ordering: .relaxed) >> side) & 0b11
    guard parks >= Self.parksBeforeBackingOff else { return Self.budget }
    var probe = 0
    update { word in
      probe = ((word >> (side + 2)) & 0b1_1111 + 1) % Self.probeInterval
      return word & ~(0b1_1111 << (side + 2)) | probe << (side + 2)
    }
    return probe == 0 ? Self.budget : 0
  }

  @inlinable
  func succeeded(side: Int) {
    // Steady state writes nothing, so the spinners' shared cache line stays quiet.
    guard (counters.load(ordering: .relaxed) >> side) & 0b11 != 0 else { return }
    update { $0 & ~(0b11 << side) }
  }

  @inlinable
  func parked(side: Int) {
    guard (counters.load(ordering: .relaxed) >> side) & 0b11 < Self.parksBeforeBackingOff else {
      return
    }
    update { $0 + (1 << side) }
  }

  @inlinable
  func update(_ change: (Int) -> Int) {
    var current = counters.load(ordering: .relaxed)
    while true {
      let (exchanged, original) = counters.compareExchange(
        expected: current, desired: change(current), ordering: .relaxed)
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
/// rounds, and not at all when the wait ends within them).
@usableFromInline
struct SpinWait {
  @usableFromInline var nanoseconds: Int
  @usableFromInline var deadline: UInt64 = 0
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
    if deadline == 0 {
      deadline = now &+ UInt64(nanoseconds)
    } else if now > deadline {
      nanoseconds = 0
      return false
    }
    return true
  }

  /// Every 256 rounds: the moment for an occasional check (a cancellation, say).
  @inlinable var isCheckpoint: Bool { rounds & 255 == 0 }
}
