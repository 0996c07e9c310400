import AsyncGenerators

/// Asks a reader to start counting again.
struct Recalibrate: Error {}

/// An error the reader does not handle.
struct SensorUnplugged: Error, Equatable {}

/// Yields numbered readings. An error thrown in with `throw(_:)` arrives at the pending
/// `yield`, where the body can catch it and carry on (Python's `athrow`).
func sensorReadings() -> AsyncGenerator<String, Void> {
  AsyncGenerator { yield in
    var reading = 0
    while true {
      reading += 1
      do {
        try await yield("reading \(reading)")
      } catch is Recalibrate {
        print("  body: caught Recalibrate, counting from zero")
        reading = 0
        try await yield("recalibrated")
      }
    }
  }
}

func throwingInExample() async throws {
  let sensor = sensorReadings()
  var seen: [String?] = []
  func show(_ call: String, _ value: String?) {
    print("  consumer: \(call) -> \(value ?? "nil")")
    seen.append(value)
  }

  show("next()", try await sensor.next())
  show("next()", try await sensor.next())
  // The body catches the error and yields again: `throw` returns that element.
  show("throw(Recalibrate())", try await sensor.throw(Recalibrate()))
  show("next()", try await sensor.next())
  check(
    seen == ["reading 1", "reading 2", "recalibrated", "reading 1"],
    "the body handles Recalibrate and yields again")

  // An error the body does not catch comes back out of `throw`, and the generator closes.
  do {
    _ = try await sensor.throw(SensorUnplugged())
    check(false, "an unhandled error should come back out of throw(_:)")
  } catch let error as SensorUnplugged {
    print("  throw(SensorUnplugged()) rethrew \(error); state: \(sensor.state)")
  }
  check(sensor.state == .closed, "an error escaping the body closes the generator")
  let after = try await sensor.next()
  check(after == nil, "next() after the body failed returns nil")
}
