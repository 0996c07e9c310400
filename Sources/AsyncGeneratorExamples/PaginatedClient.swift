import AsyncGenerators

struct Row: Sendable, Equatable {
  let id: Int
}

struct Page: Sendable {
  let rows: [Row]
  /// Where the next page starts, or `nil` after the last page.
  let nextOffset: Int?
}

/// A simulated remote API serving rows a page at a time; it prints and counts each request.
actor RowsAPI {
  private let rows: [Row]
  private(set) var requests = 0

  init(rowCount: Int) {
    rows = (1...rowCount).map(Row.init)
  }

  func page(offset: Int, limit: Int) async -> Page {
    requests += 1
    print("  api: GET /rows?offset=\(offset)&limit=\(limit)")
    await simulatedIO()
    let end = min(offset + limit, rows.count)
    return Page(rows: Array(rows[offset..<end]), nextOffset: end < rows.count ? end : nil)
  }
}

/// Every row of `api`, fetching the next page only when the consumer asks for a row that
/// the pages fetched so far do not hold.
///
/// `Sent == Int`: `send(n)` changes the page size to `n` from the next fetch on.
func allRows(of api: RowsAPI, pageSize: Int) -> AsyncGenerator<Row, Int> {
  AsyncGenerator { yield in
    var pageSize = pageSize
    var offset: Int? = 0
    while let current = offset {
      let page = await api.page(offset: current, limit: pageSize)
      offset = page.nextOffset
      for row in page.rows {
        if let newSize = try await yield(row) {
          pageSize = max(1, newSize)
        }
      }
    }
  }
}

func paginatedClientExample() async throws {
  let api = RowsAPI(rowCount: 10)
  let rows = allRows(of: api, pageSize: 2)
  check(await api.requests == 0, "creating the generator fetches nothing")

  func show(_ call: String, _ row: Row?) {
    print("  consumer: \(call) -> \(row.map { "row \($0.id)" } ?? "nil")")
  }
  var received: [Row?] = []
  for _ in 0..<2 {
    let row = try await rows.next()
    show("next()", row)
    received.append(row)
  }
  check(await api.requests == 1, "two rows of a two-row page take one request")

  // The body receives 4 at its pending yield; the next page is fetched four rows at a time.
  let third = try await rows.send(4)
  show("send(4)", third)
  received.append(third)
  check(await api.requests == 2, "the third row needed a second page")

  while let row = try await rows.next() {
    show("next()", row)
    received.append(row)
  }
  show("next()", nil)
  check(received == (1...10).map(Row.init), "all ten rows, in order")
  check(await api.requests == 3, "pages of 2, 4 and 4 rows: three requests")

  // A consumer that stops early costs no more requests than it needed.
  let lazyAPI = RowsAPI(rowCount: 1_000)
  let found = try await allRows(of: lazyAPI, pageSize: 50).closing { rows in
    try await rows.first { $0.id == 3 }
  }
  show("first { $0.id == 3 }", found)
  check(found == Row(id: 3), "first(where:) finds row 3")
  check(await lazyAPI.requests == 1, "one page fetched for a row on the first page")
}
