import Synchronization

#if canImport(Darwin)
  import Darwin
#elseif canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Bionic)
  import Bionic
#endif

/// A mutual-exclusion lock over the platform's own primitive.
///
/// `Synchronization.Mutex` would do, but ThreadSanitizer misreports accesses inside
/// `Mutex.withLock` on this toolchain; a pthread mutex (or `os_unfair_lock`) is understood
/// by it, so the sanitizer runs stay report-free.
struct Lock: @unchecked Sendable {
  #if canImport(Darwin)
    private typealias Primitive = os_unfair_lock
  #else
    private typealias Primitive = pthread_mutex_t
  #endif

  private let primitive: UnsafeMutablePointer<Primitive>

  /// Allocates the lock; call `deallocate()` exactly once when its owner goes away.
  init() {
    primitive = .allocate(capacity: 1)
    #if canImport(Darwin)
      primitive.initialize(to: os_unfair_lock())
    #else
      primitive.initialize(to: pthread_mutex_t())
      pthread_mutex_init(primitive, nil)
    #endif
  }

  func deallocate() {
    #if !canImport(Darwin)
      pthread_mutex_destroy(primitive)
    #endif
    primitive.deinitialize(count: 1)
    primitive.deallocate()
  }

  func lock() {
    #if canImport(Darwin)
      os_unfair_lock_lock(primitive)
    #else
      pthread_mutex_lock(primitive)
    #endif
  }

  func unlock() {
    #if canImport(Darwin)
      os_unfair_lock_unlock(primitive)
    #else
      pthread_mutex_unlock(primitive)
    #endif
  }

  @inline(__always)
  func withLock<R>(_ body: () throws -> R) rethrows -> R {
    lock()
    defer { unlock() }
    return try body()
  }
}

/// A lock held in one atomic word inside its owner: no allocation, which matters for the
/// per-generator footprint (see the storage), and ThreadSanitizer understands it (it is
/// built on acquiring and releasing atomics).
///
/// The sections it guards are short and never call out to user code, so a waiter spins
/// briefly, then yields its thread until the holder is done.
struct InlineLock: ~Copyable {
  private let state = Atomic<UInt32>(0)

  init() {}

  func lock() {
    var attempts = 0
    while !state.compareExchange(expected: 0, desired: 1, ordering: .acquiring).exchanged {
      attempts += 1
      if attempts > 64 { sched_yield() }
      while state.load(ordering: .relaxed) != 0 {
        attempts += 1
        if attempts > 64 { sched_yield() }
      }
    }
  }

  func unlock() {
    state.store(0, ordering: .releasing)
  }

  @inline(__always)
  func withLock<R>(_ body: () throws -> R) rethrows -> R {
    lock()
    defer { unlock() }
    return try body()
  }
}
