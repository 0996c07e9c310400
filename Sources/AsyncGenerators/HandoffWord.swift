/// The lock-free handoff's state, packed in one atomic word.
///
/// While the state machine has delegated the phase (see `GeneratorStateMachine`), this word
/// is the whole truth about where the element handoff is; the storage's slots hold what it
/// refers to. `slow` means the state machine holds the phase, under the lock.
///
/// The low three bits say where the handoff is; two flags say who is parked, with its
/// continuation in the storage's slot; a third marks a posted request as a `throw(_:)`. Whoever clears a parked flag with a successful
/// compare-and-exchange resumes that continuation: that is what makes every continuation
/// resumed exactly once.
@usableFromInline
struct HandoffWord: Equatable {
  @usableFromInline var rawValue: Int

  @usableFromInline
  enum Stage: Int {
    /// The state machine holds the phase.
    case slow = 0
    /// The body is at a yield; no call is in flight.
    case atYield = 1
    /// A `next()` is posted; the body has not taken it.
    case requestedNext = 2
    /// A `send(_:)` is posted, its value in the sent slot (or, with the throwing flag, a
    /// `throw(_:)`, its error in the thrown slot); the body has not taken it.
    case requestedSend = 3
    /// A `send(_:)` or `throw(_:)` has claimed the word and is writing its slot (an instant).
    case claimed = 4
    /// The body runs for the call in flight.
    case running = 5
    /// The body yielded, its element in the element slot; the consumer has not taken it.
    case delivered = 6
    /// A prefetching iteration owns the generator: yields go to its ring. The state machine
    /// holds the phase (this stage is never reclaimed).
    case prefetching = 7
  }

  @inlinable static var bodyParked: Int { 0b1000 }
  @inlinable static var consumerParked: Int { 0b1_0000 }
  @inlinable static var throwing: Int { 0b10_0000 }
  @inlinable static var stageMask: Int { 0b111 }

  @inlinable
  init(rawValue: Int) {
    self.rawValue = rawValue
  }

  @inlinable
  init(
    _ stage: Stage, bodyParked: Bool = false, consumerParked: Bool = false, throwing: Bool = false
  ) {
    rawValue =
      stage.rawValue | (bodyParked ? Self.bodyParked : 0)
      | (consumerParked ? Self.consumerParked : 0) | (throwing ? Self.throwing : 0)
  }

  @inlinable static var slow: HandoffWord { HandoffWord(.slow) }

  @inlinable
  var stage: Stage {
    Stage(rawValue: rawValue & Self.stageMask) ?? .slow
  }

  @inlinable var isBodyParked: Bool { rawValue & Self.bodyParked != 0 }
  @inlinable var isConsumerParked: Bool { rawValue & Self.consumerParked != 0 }
  @inlinable var isThrowing: Bool { rawValue & Self.throwing != 0 }

  /// The same parked flags at another stage (the throwing flag belongs to the request).
  @inlinable
  func with(_ stage: Stage) -> HandoffWord {
    HandoffWord(rawValue: (rawValue & ~(Self.stageMask | Self.throwing)) | stage.rawValue)
  }

  @inlinable
  func settingBodyParked() -> HandoffWord { HandoffWord(rawValue: rawValue | Self.bodyParked) }

  @inlinable
  func settingConsumerParked() -> HandoffWord {
    HandoffWord(rawValue: rawValue | Self.consumerParked)
  }
}
