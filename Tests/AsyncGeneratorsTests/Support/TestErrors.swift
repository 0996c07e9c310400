// Swift stand-ins for the Python exceptions the catalogue's scenarios raise.

struct ZeroDivisionError: Error, Equatable {}

struct FooError: Error, Equatable {}

struct MyError: Error, Equatable {}

struct AwaitError: Error, Equatable {}

/// Stands in for `KeyboardInterrupt`, a `BaseException` that is not an `Exception`.
struct KeyboardInterrupt: Error, Equatable {}

struct ValueError: Error, Equatable {
  var message = ""
}

struct KeyError: Error, Equatable {
  var key = ""
}

struct TypeError: Error, Equatable {
  var message = ""
}

/// An error whose instances are all distinct, to check that the very error the body threw
/// is the one the consumer receives.
struct UniqueError: Error, Equatable {
  let id = Identity()

  final class Identity: Sendable, Equatable {
    static func == (lhs: Identity, rhs: Identity) -> Bool { lhs === rhs }
  }
}

/// Thrown by the test's own stand-in for `asyncio.timeout`.
struct TimeoutError: Error, Equatable {}
