import Synchronization

/// The single-producer, single-consumer ring a prefetching iteration reads: the body's
/// yields push, the iterator pops, and each side parks only when the ring is full or empty.
///
/// Head and tail live on separate cache lines and each side caches the other's index, so a
/// steady stream touches shared memory only when a cached index runs out. A side that parks
/// publishes its flag, then checks the other index again (both with sequentially consistent
/// operations), so neither can miss the other's wake-up; whoever clears a parked flag resumes
/// that side's continuation, exactly once. The producer is woken when the ring has drained
/// to half, not for every element.
@usableFromInline
final class PrefetchRing<Element: Sendable, Sent: Sendable>: @unchecked Sendable {
  /// Resumed without a value: room in the ring (or an answer in the storage's slot).
  @usableFromInline typealias ProducerWaiter = UnsafeContinuation<Void, Never>

  @usableFromInline let capacity: Int
  @usableFromInline let buffer: UnsafeMutablePointer<Element>
  /// `indices[0]` is the head (elements popped), `indices[lineStride]` the tail (pushed).
  @usableFromInline let indices: UnsafeMutablePointer<Atomic<Int>>
  @inlinable static var lineStride: Int { 16 }  // 128 bytes apart

  @usableFromInline let flags = Atomic<Int>(0)
  @inlinable static var consumerParked: Int { 1 }
  @inlinable static var producerParked: Int { 2 }
  @inlinable static var finished: Int { 4 }
  @inlinable static var abandoned: Int { 8 }

  // Each side's own copy of the other's index, and its continuation while parked.
  @usableFromInline @exclusivity(unchecked) var producerCachedHead = 0
  @usableFromInline @exclusivity(unchecked) var consumerCachedTail = 0
  @usableFromInline @exclusivity(unchecked) var consumerWaiter: UnsafeContinuation<Void, Never>?
  @usableFromInline @exclusivity(unchecked) var producerWaiter: ProducerWaiter?
  /// How the body ended (`nil`: it returned); written before the finished flag.
  @usableFromInline @exclusivity(unchecked) var ending: (any Error)?

  @usableFromInline
  init(capacity: Int) {
    self.capacity = max(1, capacity)
    buffer = .allocate(capacity: self.capacity)
    indices = .allocate(capacity: Self.lineStride * 2)
    for i in 0..<(Self.lineStride * 2) { (indices + i).initialize(to: Atomic(0)) }
  }

  deinit {
    let head = indices[0].load(ordering: .acquiring)
    let tail = indices[Self.lineStride].load(ordering: .acquiring)
    for i in head..<tail { (buffer + i % capacity).deinitialize(count: 1) }
    buffer.deallocate()
    indices.deinitialize(count: Self.lineStride * 2)
    indices.deallocate()
  }

  @inlinable var head: Int { indices[0].load(ordering: .acquiring) }
  @inlinable var tail: Int { indices[Self.lineStride].load(ordering: .acquiring) }

  // MARK: Producer (the body's yields)

  /// Pushes `element`; false if the ring is full.
  @inlinable
  func push(_ element: Element) -> Bool {
    let tail = indices[Self.lineStride].load(ordering: .relaxed)
    if tail - producerCachedHead == capacity {
      producerCachedHead = head
      if tail - producerCachedHead == capacity { return false }
    }
    (buffer + tail % capacity).initialize(to: element)
    indices[Self.lineStride].store(tail + 1, ordering: .sequentiallyConsistent)
    if flags.load(ordering: .sequentiallyConsistent) & Self.consumerParked != 0 { wakeConsumer() }
    return true
  }

  /// Parks the producer until the ring has room, unless it already has.
  @usableFromInline
  func parkProducer(_ waiter: ProducerWaiter) {
    producerWaiter = waiter
    flags.bitwiseOr(Self.producerParked, ordering: .sequentiallyConsistent)
    let tail = indices[Self.lineStride].load(ordering: .relaxed)
    if tail - indices[0].load(ordering: .sequentiallyConsistent) < capacity
      || flags.load(ordering: .sequentiallyConsistent) & Self.abandoned != 0
    {
      takeProducer()?.resume()
    }
  }

  /// The iteration ended: a producer parking from now on returns at once.
  func abandon() {
    flags.bitwiseOr(Self.abandoned, ordering: .sequentiallyConsistent)
  }

  /// The parked producer's continuation, if it is parked; it is then no longer parked here.
  @usableFromInline
  func takeProducer() -> ProducerWaiter? {
    let old = flags.bitwiseAnd(~Self.producerParked, ordering: .sequentiallyConsistent).oldValue
    return old & Self.producerParked != 0 ? producerWaiter : nil
  }

  /// The body ended; `error` is what it threw, if anything.
  func finish(throwing error: (any Error)?) {
    ending = error
    flags.bitwiseOr(Self.finished, ordering: .sequentiallyConsistent)
    wakeConsumer()
  }

  // MARK: Consumer (the iterator)

  @usableFromInline
  enum Pop {
    case element(Element)
    case empty
    /// The body ended (its error, if any) and every element has been taken.
    case finished((any Error)?)
  }

  @inlinable
  func pop() -> Pop {
    let head = indices[0].load(ordering: .relaxed)
    if head == consumerCachedTail {
      consumerCachedTail = tail
      if head == consumerCachedTail {
        guard flags.load(ordering: .acquiring) & Self.finished != 0 else { return .empty }
        // The tail may have moved just before the finished flag was set.
        consumerCachedTail = tail
        if head == consumerCachedTail { return .finished(ending) }
      }
    }
    let element = (buffer + head % capacity).move()
    indices[0].store(head + 1, ordering: .sequentiallyConsistent)
    if flags.load(ordering: .sequentiallyConsistent) & Self.producerParked != 0,
      consumerCachedTail - (head + 1) <= capacity / 2
    {
      takeProducer()?.resume()
    }
    return .element(element)
  }

  /// Parks the consumer until an element or the end arrives, unless one already has.
  @usableFromInline
  func parkConsumer(_ waiter: UnsafeContinuation<Void, Never>) {
    consumerWaiter = waiter
    flags.bitwiseOr(Self.consumerParked, ordering: .sequentiallyConsistent)
    let head = indices[0].load(ordering: .relaxed)
    if indices[Self.lineStride].load(ordering: .sequentiallyConsistent) != head
      || flags.load(ordering: .sequentiallyConsistent) & Self.finished != 0
    {
      wakeConsumer()
    }
  }

  @usableFromInline
  func wakeConsumer() {
    let old = flags.bitwiseAnd(~Self.consumerParked, ordering: .sequentiallyConsistent).oldValue
    if old & Self.consumerParked != 0 { consumerWaiter?.resume() }
  }
}
