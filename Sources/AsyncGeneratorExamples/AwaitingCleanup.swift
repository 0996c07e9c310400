import AsyncGenerators

/// A connection whose shutdown is asynchronous (it must flush, then say goodbye).
actor Connection {
  private(set) var sent: [String] = []
  private(set) var isOpen = true

  func send(_ message: String) async {
    await simulatedIO()
    sent.append(message)
  }

  func close() async {
    await send("goodbye")
    isOpen = false
  }
}

/// Streams messages received over `connection` until closed.
///
/// `close()` throws ``GeneratorExit`` at the pending `yield`. The body catches it, **awaits**
/// its cleanup, and returns, which is what `close()` waits for. (Rethrowing
/// `GeneratorExit` would do as well.)
func messages(over connection: Connection) -> AsyncGenerator<String, Void> {
  AsyncGenerator { yield in
    var number = 0
    do {
      while true {
        number += 1
        try await yield("message \(number)")
      }
    } catch is GeneratorExit {
      print("  body: caught GeneratorExit, closing the connection")
      await connection.close()
      print("  body: connection closed, returning")
      return
    }
  }
}

func awaitingCleanupExample() async throws {
  let connection = Connection()
  let stream = messages(over: connection)
  for _ in 0..<2 {
    print("  consumer: got \(try await stream.next() ?? "nil")")
  }
  print("  consumer: close()")
  try await stream.close()
  print("  close() returned; state: \(stream.state)")

  check(stream.state == .closed, "the generator is closed after close()")
  check(await connection.isOpen == false, "close() waited for the awaiting cleanup")
  check(await connection.sent == ["goodbye"], "the cleanup's own awaits ran")
}
