import AsyncGenerators
import Hummingbird
import Logging
import ServiceLifecycle

/// The body writer's error when a row stream ended before its last row (its generator was
/// closed by the server's shutdown): Hummingbird then drops the connection instead of ending
/// the chunked body, so the client sees an incomplete response, not a short one.
struct StreamInterrupted: Error {}

/// The HTTP application:
///
/// - `GET /rows?chunk=100&limit=N` streams the demo table as NDJSON, `chunk` rows (1...10,000)
///   per write, at most `limit` rows (all by default), from the generator that
///   ``rowChunks(from:chunkSize:limit:requestID:completion:)`` returns;
/// - `GET /stats` reports the open and closed cursors and the live generator body tasks.
///
/// `onServerRunning` receives the port the server listens on (useful with port 0).
public func makeApplication(
  source: RowSource, host: String = "127.0.0.1", port: Int,
  onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
) -> some ApplicationProtocol {
  let router = Router()
  router.get("rows") { request, _ -> Response in
    let chunkSize = min(
      max(request.uri.queryParameters.get("chunk", as: Int.self) ?? 100, 1), 10_000)
    let limit = request.uri.queryParameters.get("limit", as: Int.self)
    let requestID = request.headers[.init("X-Request-ID")!]
    let body = ResponseBody { writer in
      let completion = StreamCompletion()
      let chunks = rowChunks(
        from: source, chunkSize: chunkSize, limit: limit, requestID: requestID,
        completion: completion)
      // `closing` closes the generator however the loop ends, awaiting its cleanup: when a
      // write fails because the client went away, the error leaves the loop, `close()` throws
      // GeneratorExit at the body's pending yield, and the cursor is closed before the error
      // reaches Hummingbird. (A plain `for try await` would leave the generator suspended:
      // breaking out of it does not close it.) A graceful shutdown stops the loop too.
      // `@concurrent`: `closing` takes a `nonisolated(nonsending)` closure, from which the
      // region checker won't let the non-Sendable `writer` go to Hummingbird's plain
      // nonisolated `write` ("sending 'writer' risks causing data races").
      try await chunks.closing { @concurrent chunks in
        while !Task.isShuttingDownGracefully, let chunk = try await chunks.next() {
          try await writer.write(chunk)
        }
      }
      guard completion.isFinished else { throw StreamInterrupted() }
      try await writer.finish(nil)
    }
    return Response(status: .ok, headers: [.contentType: "application/x-ndjson"], body: body)
  }
  router.get("stats") { _, _ -> String in
    let registry = source.registry
    return """
      open cursors: \(registry.openCursors)
      closed cursors: \(registry.closes.count)
      live generator body tasks: \(AsyncGeneratorDiagnostics.liveBodyTasks)

      """
  }
  return Application(
    router: router,
    configuration: .init(address: .hostname(host, port: port)),
    onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? port) },
    logger: source.logger
  )
}
