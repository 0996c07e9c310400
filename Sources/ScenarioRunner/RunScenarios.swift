import Foundation

/// The largest input ``runScenarios(_:)`` accepts: 16 MiB (16,777,216 bytes).
public let maximumScenarioInputSize = ScenarioParser.maximumInputSize

/// Runs the scenarios of a JSON input (SCENARIOS.md) one after another, each to its end, and
/// returns their traces as a JSON array, one trace per line, in the layout of CPython's
/// reference runner.
///
/// Throws ``ScenarioInputError``, before running anything, when the input breaks an input
/// rule: larger than 16 MiB, not UTF-8 or not JSON, not of the scenario shape, statements
/// nested deeper than 32, or a `repeat` count above 1,000.
public func runScenarios(_ jsonData: Data) async throws -> Data {
  let scenarios = try ScenarioParser.parse(jsonData)
  var output = "["
  for (index, scenario) in scenarios.enumerated() {
    output += index == 0 ? "\n" : ",\n"
    let trace = await ScenarioInterpreter.run(scenario)
    JSONValue.array(trace.map(\.json)).write(to: &output)
  }
  output += scenarios.isEmpty ? "]\n" : "\n]\n"
  return Data(output.utf8)
}
