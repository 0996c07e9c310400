import Foundation
import Testing

@testable import ScenarioRunner

/// Every input rule of SCENARIOS.md and Conformance/README.md: rejected inputs throw a
/// ``ScenarioInputError`` whose message names the rule and where it was broken.
@Suite struct ParserTests {
  private func rejection(_ input: String) -> String? {
    rejection(Data(input.utf8))
  }

  private func rejection(_ input: Data) -> String? {
    do {
      _ = try ScenarioParser.parse(input)
      return nil
    } catch {
      return error.message
    }
  }

  private func scenario(body: String = "[{\"yield\":1}]", ops: String = "[]") -> String {
    "[{\"body\":\(body),\"ops\":\(ops)}]"
  }

  @Test(arguments: [
    // Not JSON.
    ("", "invalid JSON: unexpected end of input"),
    ("[{\"body\":[],\"ops\":[", "invalid JSON: unexpected end of input"),
    ("[{\"body\":[],\"ops\":[]}", "invalid JSON: expected ',' or ']'"),
    (
      "[{\"body\":[], \"ops\":[]}]]", "invalid JSON: extra data after the value at line 1 column 24"
    ),
    ("[\n{\"body\"; []}]", "invalid JSON: expected ':' after a property name at line 2 column 8"),
    ("hello", "invalid JSON: expected a value, found 'h'"),
    ("[NaN]", "invalid JSON: expected a value, found 'N'"),
    ("[01]", "invalid JSON: expected ',' or ']'"),
    ("[\"a\u{01}\"]", "invalid JSON: control character byte 0x1 in a string"),
    ("[{\"body\":[],\"body\":[],\"ops\":[]}]", "invalid JSON: duplicate key \"body\""),
    (#"[{"body":[{"log":"\ud800"}],"ops":[]}]"#, "invalid JSON: lone surrogate in a string"),
    (#"[{"body":[{"log":"\x"}],"ops":[]}]"#, "invalid JSON: invalid escape 'x' in a string"),
    // Not of the shape.
    ("{}", "top level: expected an array of scenarios"),
    ("[1]", "scenario 0: a scenario must be an object"),
    ("[{\"body\":[]}]", "scenario 0: missing key \"ops\""),
    ("[{\"body\":[],\"ops\":[],\"extra\":1}]", "scenario 0: unknown key \"extra\""),
    ("[{\"body\":{},\"ops\":[]}]", "scenario 0.body: expected an array, got an object"),
    ("[{\"name\":5,\"body\":[],\"ops\":[]}]", "scenario 0.name: expected a string, got 5"),
  ])
  func rejectsMalformedDocuments(input: String, message: String) {
    let got = rejection(input)
    #expect(got?.hasPrefix(message) == true, "got \(got ?? "no error")")
  }

  @Test(arguments: [
    // Unknown or ambiguous statements, and keys a statement's kind does not allow.
    (#"[{"sleep":1}]"#, #"scenario 0.body[0]: unknown statement (keys ["sleep"])"#),
    (
      #"[{"yield":1,"log":"a"}]"#,
      #"scenario 0.body[0]: statement has several kinds ["yield", "log"]"#
    ),
    (#"[{"yield":1,"extra":2}]"#, #"scenario 0.body[0]: unknown key "extra""#),
    (#"[{"repeat":2}]"#, #"scenario 0.body[0]: missing key "body""#),
    (#"[{"try":[],"else":[]}]"#, #"scenario 0.body[0]: unknown key "else""#),
    ("[7]", "scenario 0.body[0]: a statement must be an object"),
    // Wrong types.
    (#"[{"yield":"7"}]"#, #"scenario 0.body[0].yield: expected an integer, got "7""#),
    (#"[{"yield":true}]"#, "scenario 0.body[0].yield: expected an integer, got true"),
    (#"[{"yield":null}]"#, "scenario 0.body[0].yield: expected an integer, got null"),
    (#"[{"await":false}]"#, "scenario 0.body[0].await: expected true"),
    (#"[{"return":1}]"#, "scenario 0.body[0].return: expected true"),
    (#"[{"log":5}]"#, "scenario 0.body[0].log: expected a string, got 5"),
    (#"[{"repeat":2,"body":{}}]"#, "scenario 0.body[0].body: expected an array, got an object"),
    (#"[{"try":[],"except":{}}]"#, "scenario 0.body[0].except: expected an array"),
    (#"[{"try":[],"except":[1]}]"#, "scenario 0.body[0].except[0]: a handler must be an object"),
    (
      #"[{"try":[],"except":[{"match":"E1"}]}]"#,
      #"scenario 0.body[0].except[0]: missing key "body""#
    ),
    (
      #"[{"try":[],"except":[{"match":"E1","body":[],"reraise":1}]}]"#,
      "scenario 0.body[0].except[0].reraise: expected a boolean"
    ),
    (
      #"[{"try":[],"except":[{"match":"E4","body":[]}]}]"#,
      "scenario 0.body[0].except[0].match: expected one of E1, E2, E3, GeneratorExit, any"
    ),
    (#"[{"try":[],"finally":7}]"#, "scenario 0.body[0].finally: expected an array, got 7"),
    // Non-integer numbers.
    (#"[{"yield":1.0}]"#, "scenario 0.body[0].yield: expected an integer, got 1.0"),
    (#"[{"yield":1e2}]"#, "scenario 0.body[0].yield: expected an integer, got 1e2"),
    (#"[{"yield":-0.5}]"#, "scenario 0.body[0].yield: expected an integer, got -0.5"),
    (
      #"[{"yield":9223372036854775808}]"#,
      "scenario 0.body[0].yield: integer 9223372036854775808 out of the 64-bit range"
    ),
    // Errors other than E1, E2, E3.
    (#"[{"raise":"E4"}]"#, #"scenario 0.body[0].raise: expected one of E1, E2, E3, got "E4""#),
    (#"[{"raise":"GeneratorExit"}]"#, "scenario 0.body[0].raise: expected one of E1, E2, E3"),
  ])
  func rejectsMalformedStatements(body: String, message: String) {
    let got = rejection(scenario(body: body))
    #expect(got == message || got?.hasPrefix(message) == true, "got \(got ?? "no error")")
  }

  @Test(arguments: [
    (#"[7]"#, "scenario 0.ops[0]: an op must be an object"),
    (#"[{}]"#, #"scenario 0.ops[0]: missing key "op""#),
    (#"[{"op":"jump"}]"#, "scenario 0.ops[0].op: expected one of next, send, throw, close"),
    (#"[{"op":"next","value":1}]"#, #"scenario 0.ops[0]: unknown key "value""#),
    (#"[{"op":"send"}]"#, #"scenario 0.ops[0]: missing key "value""#),
    (#"[{"op":"send","value":"5"}]"#, #"scenario 0.ops[0].value: expected an integer, got "5""#),
    (#"[{"op":"send","value":5.5}]"#, "scenario 0.ops[0].value: expected an integer, got 5.5"),
    (#"[{"op":"throw","error":"E4"}]"#, #"scenario 0.ops[0].error: expected one of E1, E2, E3"#),
    (#"[{"op":"next"},{"op":"close","x":1}]"#, #"scenario 0.ops[1]: unknown key "x""#),
  ])
  func rejectsMalformedOperations(ops: String, message: String) {
    let got = rejection(scenario(ops: ops))
    #expect(got?.hasPrefix(message) == true, "got \(got ?? "no error")")
  }

  @Test func statementsAreRecognisedByKeyNotKeyOrder() throws {
    let input = """
      [{"ops":[{"value":-3,"op":"send"},{"error":"E2","op":"throw"}],"name":"n",
        "body":[{"body":[{"yield":5}],"repeat":2},
                {"finally":[{"log":"f"}],"except":[{"reraise":true,"body":[],"match":"any"}],
                 "try":[{"return":true}]},
                {"await":true},{"raise":"E3"}]}]
      """
    let scenarios = try ScenarioParser.parse(Data(input.utf8))
    #expect(
      scenarios == [
        Scenario(
          name: "n",
          body: [
            .repeat(2, [.yield(5)]),
            .try(
              [.return], handlers: [Handler(match: .any, body: [], reraise: true)],
              finally: [.log("f")]),
            .await, .raise(.e3),
          ],
          ops: [.send(-3), .throwError(.e2)])
      ])
  }

  /// A scenario with a statement `depth` levels deep, through each kind of nested block in
  /// turn, and the place of that statement as an error message names it.
  private func nested(depth: Int) -> (input: String, place: String) {
    var statement = #"{"yield":1}"#
    var place = ""
    for level in 1..<depth {
      switch level % 4 {
      case 0:
        statement = #"{"repeat":1,"body":[\#(statement)]}"#
        place = ".body[0]" + place
      case 1:
        statement = #"{"try":[\#(statement)]}"#
        place = ".try[0]" + place
      case 2:
        statement = #"{"try":[],"except":[{"match":"any","body":[\#(statement)]}]}"#
        place = ".except[0].body[0]" + place
      default:
        statement = #"{"try":[],"finally":[\#(statement)]}"#
        place = ".finally[0]" + place
      }
    }
    return (scenario(body: "[\(statement)]"), "scenario 0.body[0]" + place)
  }

  @Test func nestingDepth32IsAcceptedAnd33Rejected() throws {
    #expect(rejection(nested(depth: 32).input) == nil)
    let (input, place) = nested(depth: 33)
    #expect(rejection(input) == "\(place): statements nested deeper than 32")
  }

  @Test func deepJSONNestingIsRejectedWithoutExhaustingTheStack() {
    for opening in ["[", "{\"a\":"] {
      let input = String(repeating: opening, count: 1_000_000)
      let got = rejection(input)
      #expect(
        got?.hasPrefix("invalid JSON: arrays and objects nested deeper than 160 levels") == true,
        "got \(got ?? "none")")
    }
    // Statements nested too deep for the JSON limit are caught by it, still with a message.
    let got = rejection(nested(depth: 100).input)
    #expect(got?.contains("statements may nest at most 32 deep") == true, "got \(got ?? "none")")
  }

  @Test func repeatCountsUpTo1000() {
    #expect(rejection(scenario(body: #"[{"repeat":1000,"body":[]}]"#)) == nil)
    #expect(rejection(scenario(body: #"[{"repeat":0,"body":[]}]"#)) == nil)
    #expect(
      rejection(scenario(body: #"[{"repeat":1001,"body":[]}]"#))
        == "scenario 0.body[0].repeat: repeat count must be within 0...1000, got 1001")
    #expect(
      rejection(scenario(body: #"[{"repeat":-1,"body":[]}]"#))
        == "scenario 0.body[0].repeat: repeat count must be within 0...1000, got -1")
  }

  @Test func nestedRepeatsMayRunAtMostTenMillionStatements() {
    let twoDeep = #"[{"repeat":1000,"body":[{"repeat":1000,"body":[{"log":"x"}]}]}]"#
    #expect(rejection(scenario(body: twoDeep)) == nil)
    let threeDeep =
      #"[{"repeat":1000,"body":[{"repeat":1000,"body":[{"repeat":1000,"body":[{"log":"x"}]}]}]}]"#
    #expect(
      rejection(scenario(body: threeDeep))
        == "scenario 0.body: the input's bodies would run more than 10000000 statements "
        + "(repeat counts multiply)")
  }

  @Test func inputsUpTo16MiB() {
    let limit = 16 * 1_024 * 1_024
    var input = Data("[]".utf8)
    input.append(Data(repeating: UInt8(ascii: " "), count: limit - input.count))
    #expect(rejection(input) == nil)
    input.append(UInt8(ascii: " "))
    #expect(rejection(input) == "input larger than 16777216 bytes (16 MiB)")
  }

  @Test func inputMustBeUTF8() {
    var input = Data(#"[{"name":"a"#.utf8)
    input.append(0xFF)
    input.append(contentsOf: Data(#"","body":[],"ops":[]}]"#.utf8))
    #expect(rejection(input) == "input is not UTF-8 (invalid byte at offset 11)")
  }

  @Test func integersCoverTheSigned64BitRange() throws {
    let input = scenario(
      body: #"[{"yield":-9223372036854775808},{"yield":9223372036854775807}]"#,
      ops: #"[{"op":"send","value":-0}]"#)
    let scenarios = try ScenarioParser.parse(Data(input.utf8))
    #expect(scenarios.first?.body == [.yield(.min), .yield(.max)])
    #expect(scenarios.first?.ops == [.send(0)])
  }

  @Test func stringsDecodeEscapes() throws {
    let input = #"[{"name":"\u00e9\ud83d\ude00\n\/","body":[{"log":"é"}],"ops":[]}]"#
    let scenarios = try ScenarioParser.parse(Data(input.utf8))
    #expect(scenarios.first?.name == "é😀\n/")
    #expect(scenarios.first?.body == [.log("é")])
  }

  @Test func runScenariosRejectsBeforeRunningAnything() async {
    await #expect(throws: ScenarioInputError.self) {
      _ = try await runScenarios(Data(#"[{"body":[{"log":"x"}],"ops":[]}, 5]"#.utf8))
    }
  }
}
