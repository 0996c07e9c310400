import AsyncGenerators
import Testing

@Test func smoke() async throws {
  let g = AsyncGenerator<Int, Void> { yield in for i in 0..<3 { try await yield(i) } }
  var got: [Int] = []
  for try await x in g { got.append(x) }
  #expect(got == [0, 1, 2])
}
