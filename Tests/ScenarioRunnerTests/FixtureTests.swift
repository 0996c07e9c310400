import Foundation
import Testing

@testable import ScenarioRunner

/// Replays the committed fixtures (Conformance/Fixtures): every trace must equal CPython
/// 3.13's after the normalization of SCENARIOS.md.
@Suite struct FixtureTests {
  static let fixtures = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent()
    .deletingLastPathComponent()
    .deletingLastPathComponent()
    .appendingPathComponent("Conformance/Fixtures")

  @Test func everyTraceEqualsCPythons() async throws {
    let scenarios = try ScenarioParser.parse(
      Data(contentsOf: Self.fixtures.appendingPathComponent("scenarios.json")))
    let document = try JSONParser.parse(
      Array(Data(contentsOf: Self.fixtures.appendingPathComponent("traces.json"))))
    guard case .array(let traces) = document else {
      Issue.record("traces.json is not an array")
      return
    }
    try #require(traces.count == scenarios.count, "one CPython trace per scenario")

    var compared = 0
    var mismatches: [String] = []
    for (scenario, expectedTrace) in zip(scenarios, traces) {
      guard case .array(let expectedEvents) = expectedTrace else {
        Issue.record("the trace of \(scenario.name ?? "?") is not an array")
        continue
      }
      // CPython could not compile the body (more than 20 static blocks): nothing to compare.
      if case .object(let first) = expectedEvents.first, first["ev"] == .string("unsupported") {
        continue
      }
      compared += 1
      let expected = normalizedForComparison(expectedEvents)
      let actual = normalizedForComparison(await ScenarioInterpreter.run(scenario).map(\.json))
      if expected != actual {
        mismatches.append(Self.report(scenario, expected: expected, actual: actual))
      }
    }
    #expect(compared > 2_000)
    if !mismatches.isEmpty {
      Issue.record(
        """
        \(mismatches.count) of \(compared) traces differ from CPython's; the first ones:
        \(mismatches.prefix(3).joined(separator: "\n"))
        """)
    }
  }

  private static func report(
    _ scenario: Scenario, expected: [JSONValue], actual: [JSONValue]
  ) -> String {
    let at =
      zip(expected, actual).enumerated().first { $0.element.0 != $0.element.1 }?.offset
      ?? min(expected.count, actual.count)
    func lines(_ trace: [JSONValue]) -> String {
      trace.enumerated().map { "  \($0 == at ? ">>" : "  ") \($1.text)" }
        .joined(separator: "\n")
    }
    return """
      scenario \(scenario.name ?? "?"), first difference at event \(at)
      CPython:
      \(lines(expected))
      Swift:
      \(lines(actual))
      """
  }
}
