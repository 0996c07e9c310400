// async-generator-scenarios: reads a JSON array of generator scenarios on standard input and
// writes their traces as a JSON array on standard output (shared/conformance/SCENARIOS.md).
// Exit status 2, with one line on standard error, when the input is rejected.

import Foundation
import ScenarioRunner

/// Reads standard input to its end, or until it holds more than `limit` bytes (then stops:
/// the input is rejected anyway, and an endless input must not hang the runner).
func readStandardInput(limit: Int) -> Data {
  var data = Data()
  while data.count <= limit {
    let chunk = FileHandle.standardInput.readData(ofLength: 1 << 16)
    if chunk.isEmpty { break }
    data.append(chunk)
  }
  return data
}

func fail(_ message: String) -> Never {
  FileHandle.standardError.write(Data("async-generator-scenarios: \(message)\n".utf8))
  exit(2)
}

let input = readStandardInput(limit: maximumScenarioInputSize)
do {
  FileHandle.standardOutput.write(try await runScenarios(input))
} catch {
  fail("\(error)")
}
