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
@usableFromInline
struct SpinPolicy: ~Copyable {
  /// Spin iterations before parking (a microsecond or two).
  @inlinable static var budget: Int { 2048 }
  @inlinable static var parksBeforeBackingOff: Int { 3 }
  @inlinable static var probeInterval: Int { 32 }

  @usableFromInline let multicore = spinningPays
  @usableFromInline let consumerParks = Atomic<Int>(0)
  @usableFromInline let bodyParks = Atomic<Int>(0)
  @usableFromInline let consumerProbes = Atomic<Int>(0)
  @usableFromInline let bodyProbes = Atomic<Int>(0)
  /// The serial executor the body runs on (its actor, or its task executor), 0 if none.
  @usableFromInline let bodyExecutor = Atomic<UInt>(0)
  @usableFromInline let sharedExecutor = Atomic<Bool>(false)

  @usableFromInline init() {}

  /// Spins for a consumer running with `isolation`.
  @inlinable
  func consumerBudget(isolation: (any Actor)?) -> Int {
    guard multicore else { return 0 }
    let body = bodyExecutor.load(ordering: .relaxed)
    // Only a body on a serial executor can share one with its consumer.
    let shared = body != 0 && executorKey(isolation: isolation) == body
    if shared != sharedExecutor.load(ordering: .relaxed) {
      sharedExecutor.store(shared, ordering: .relaxed)
    }
    return shared ? 0 : Self.budget(parks: consumerParks, probes: consumerProbes)
  }

  @inlinable
  func bodyBudget() -> Int {
    guard multicore, !sharedExecutor.load(ordering: .relaxed) else { return 0 }
    return Self.budget(parks: bodyParks, probes: bodyProbes)
  }

  @inlinable func consumerSucceeded() { Self.reset(consumerParks) }
  @inlinable func bodySucceeded() { Self.reset(bodyParks) }
  @inlinable func consumerParked() { Self.count(consumerParks) }
  @inlinable func bodyParked() { Self.count(bodyParks) }

  @inlinable
  static func budget(parks: borrowing Atomic<Int>, probes: borrowing Atomic<Int>) -> Int {
    guard parks.load(ordering: .relaxed) >= parksBeforeBackingOff else { return budget }
    return probes.wrappingAdd(1, ordering: .relaxed).newValue % probeInterval == 0 ? budget : 0
  }

  @inlinable
  static func reset(_ parks: borrowing Atomic<Int>) {
    // Steady state writes nothing, so the spinners' shared cache line stays quiet.
    if parks.load(ordering: .relaxed) != 0 { parks.store(0, ordering: .relaxed) }
  }

  @inlinable
  static func count(_ parks: borrowing Atomic<Int>) {
    if parks.load(ordering: .relaxed) < parksBeforeBackingOff { parks.add(1, ordering: .relaxed) }
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
