import AsyncGenerators

let g = AsyncGenerator<Int, Int> { yield in
  var total = 0
  while true { if let n = try await yield(total) { total += n } }
}
print(try await g.next() as Any)
print(try await g.send(5) as Any)
try await g.close()
print(g.state)
