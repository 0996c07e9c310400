import Foundation
import Testing

@testable import ScenarioRunner

@Suite struct ExampleTraceTests {
  /// The example of SCENARIOS.md, byte for byte.
  @Test func specificationExample() async throws {
    let input = """
      [{"body":[{"try":[{"yield":1},{"yield":2}],
                "except":[{"match":"GeneratorExit","body":[{"await":true},{"log":"cleanup"}],"reraise":true}]}],
       "ops":[{"op":"next"},{"op":"close"},{"op":"next"}]}]
      """
    let expected = """
      [
      [{"ev":"op","i":0,"op":"next","outcome":"value","value":1,"state":"suspended"},\
      {"ev":"caught","error":"GeneratorExit"},{"ev":"log","tag":"cleanup"},\
      {"ev":"op","i":1,"op":"close","outcome":"ok","state":"closed"},\
      {"ev":"op","i":2,"op":"next","outcome":"stop","state":"closed"},\
      {"ev":"dropped"},{"ev":"done"}]
      ]

      """
    let output = try await runScenarios(Data(input.utf8))
    #expect(String(decoding: output, as: UTF8.self) == expected)
  }

  @Test func emptyInputGivesAnEmptyArray() async throws {
    let output = try await runScenarios(Data(" [ ] ".utf8))
    #expect(String(decoding: output, as: UTF8.self) == "[]\n")
  }

  /// The runner really releases the generator at `dropped`: a suspended generator's awaiting
  /// cleanup runs after that event and before `done`, as in CPython's trace. Repeated, because
  /// a lingering reference or a race would show up only sometimes.
  @Test func droppedSuspendedGeneratorIsFinalizedBetweenDroppedAndDone() async throws {
    let scenario = try #require(
      try ScenarioParser.parse(
        Data(
          """
          [{"body":[{"try":[{"yield":1},{"yield":2}],
                     "finally":[{"await":true},{"log":"cleanup"},{"await":true},{"log":"end"}]}],
            "ops":[{"op":"next"}]}]
          """.utf8)
      ).first)
    let expected: [TraceEvent] = [
      .op(index: 0, op: "next", outcome: .value(1), state: .suspended),
      .dropped, .finally, .log("cleanup"), .log("end"), .done,
    ]
    for _ in 0..<200 {
      let trace = await ScenarioInterpreter.run(scenario)
      // Error reports are the fixture test's business; here only the order of the cleanup.
      let events = trace.filter { if case .finalizeError = $0 { false } else { true } }
      #expect(events == expected)
      if events != expected { break }
    }
  }

  @Test func unstartedGeneratorIsDroppedSilently() async throws {
    let scenario = Scenario(name: nil, body: [.log("never")], ops: [])
    #expect(await ScenarioInterpreter.run(scenario) == [.dropped, .done])
  }

  @Test func normalization() {
    func event(_ members: [(String, JSONValue)]) -> JSONValue {
      .object(JSONObject(members.map { (key: $0.0, value: $0.1) }))
    }
    let throwNull = event([
      ("ev", .string("op")), ("i", .integer(0)), ("op", .string("throw")),
      ("outcome", .string("value")), ("value", .null), ("state", .string("closed")),
    ])
    let throwStop = event([
      ("ev", .string("op")), ("i", .integer(0)), ("op", .string("throw")),
      ("outcome", .string("stop")), ("state", .string("closed")),
    ])
    let ignored = event([
      ("ev", .string("finalize_error")), ("error", .string("IgnoredGeneratorExit")),
    ])
    let unraisable = event([("ev", .string("unraisable")), ("error", .null)])
    let done = event([("ev", .string("done"))])
    #expect(normalizedForComparison([throwNull, done]) == [throwStop, done])
    #expect(normalizedForComparison([throwStop, ignored, done]) == [throwStop, ignored])
    #expect(normalizedForComparison([unraisable, done]) == [unraisable])
    // Only a throw op's null value counts as a stop.
    let resumedNull = event([("ev", .string("resumed")), ("value", .null)])
    #expect(normalizedForComparison([resumedNull]) == [resumedNull])
  }

  @Test func pythonCompatibleStringEscapes() {
    #expect(JSONValue.string("a\"b\\c\n\u{7F}é😀").text == #""a\"b\\c\n\u007f\u00e9\ud83d\ude00""#)
  }
}
