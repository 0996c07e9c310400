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
struct SpinPolicy: ~Copyable {
  /// Spin iterations before parking (about a microsecond or two).
  static let budget = 2048
  static let parksBeforeBackingOff = 3
  static let probeInterval = 32
  static let multicore = sysconf(Int32(_SC_NPROCESSORS_ONLN)) > 1

  private let consumerParks = Atomic<Int>(0)
  private let bodyParks = Atomic<Int>(0)
  private let consumerProbes = Atomic<Int>(0)
  private let bodyProbes = Atomic<Int>(0)
  /// The serial executor the body runs on (its actor, or its task executor), 0 if none.
  let bodyExecutor = Atomic<UInt>(0)
  private let sharedExecutor = Atomic<Bool>(false)

  /// Spins for a consumer whose serial executor is `executor` (0 if none).
  func consumerBudget(executor: UInt) -> Int {
    guard Self.multicore else { return 0 }
    let shared = executor != 0 && executor == bodyExecutor.load(ordering: .relaxed)
    if shared != sharedExecutor.load(ordering: .relaxed) {
      sharedExecutor.store(shared, ordering: .relaxed)
    }
    return shared ? 0 : Self.budget(parks: consumerParks, probes: consumerProbes)
  }

  func bodyBudget() -> Int {
    guard Self.multicore, !sharedExecutor.load(ordering: .relaxed) else { return 0 }
    return Self.budget(parks: bodyParks, probes: bodyProbes)
  }

  func consumerSucceeded() { Self.reset(consumerParks) }
  func bodySucceeded() { Self.reset(bodyParks) }
  func consumerParked() { Self.count(consumerParks) }
  func bodyParked() { Self.count(bodyParks) }

  private static func budget(parks: borrowing Atomic<Int>, probes: borrowing Atomic<Int>) -> Int {
    guard parks.load(ordering: .relaxed) >= parksBeforeBackingOff else { return budget }
    return probes.wrappingAdd(1, ordering: .relaxed).newValue % probeInterval == 0 ? budget : 0
  }

  private static func reset(_ parks: borrowing Atomic<Int>) {
    // Steady state writes nothing, so the spinners' shared cache line stays quiet.
    if parks.load(ordering: .relaxed) != 0 { parks.store(0, ordering: .relaxed) }
  }

  private static func count(_ parks: borrowing Atomic<Int>) {
    if parks.load(ordering: .relaxed) < parksBeforeBackingOff { parks.add(1, ordering: .relaxed) }
  }
}

/// The serial executor code with `isolation` runs on: its actor, else the current task's
/// executor preference, else 0 (the global concurrent executor).
func executorKey(isolation: (any Actor)?) -> UInt {
  if let isolation { return UInt(bitPattern: ObjectIdentifier(isolation).hashValue) }
  return withUnsafeCurrentTask { task in
    task?.unownedTaskExecutor.map { unsafeBitCast($0, to: (UInt, UInt).self).0 } ?? 0
  }
}
