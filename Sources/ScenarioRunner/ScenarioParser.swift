/// Why an input was rejected, with where: `scenario 3.body[1].try[0].yield: expected an
/// integer, got "7"`.
public struct ScenarioInputError: Error, Sendable, Equatable, CustomStringConvertible {
  /// The message, naming the place in the input.
  public let message: String

  init(_ message: String) {
    self.message = message
  }

  public var description: String { message }
}

/// Turns the input bytes into scenarios, enforcing every input rule of SCENARIOS.md (and the
/// reference runner's messages): a size limit checked first, strict UTF-8 and JSON with
/// bounded nesting, then the shape, with a path naming where each error is.
enum ScenarioParser {
  /// The largest input accepted: 16 MiB.
  static let maximumInputSize = 16 * 1_024 * 1_024
  /// The deepest statement nesting accepted; top-level body statements are at depth 1.
  static let maximumDepth = 32
  /// The largest `repeat` count accepted.
  static let maximumRepeat = 1_000
  /// The most statements the bodies of one input may run, all scenarios together, counting
  /// each `repeat` as its count times its body: nested repeats within the other limits could
  /// otherwise ask for a billion steps, which is a hang however valid each part is.
  static let maximumSteps = 10_000_000

  private static let statementKinds = ["yield", "await", "log", "raise", "return", "repeat", "try"]

  static func parse(_ bytes: some Collection<UInt8>) throws(ScenarioInputError) -> [Scenario] {
    guard bytes.count <= maximumInputSize else {
      throw ScenarioInputError("input larger than \(maximumInputSize) bytes (16 MiB)")
    }
    let bytes = Array(bytes)
    try checkUTF8(bytes)
    return try scenarios(from: JSONParser.parse(bytes))
  }

  private static func checkUTF8(_ bytes: [UInt8]) throws(ScenarioInputError) {
    var iterator = bytes.makeIterator()
    var decoder = UTF8()
    var offset = 0
    while true {
      switch decoder.decode(&iterator) {
      case .scalarValue(let scalar): offset += UTF8.width(scalar)
      case .emptyInput: return
      case .error: throw ScenarioInputError("input is not UTF-8 (invalid byte at offset \(offset))")
      }
    }
  }

  // MARK: The shape

  static func scenarios(from document: JSONValue) throws(ScenarioInputError) -> [Scenario] {
    guard case .array(let elements) = document else {
      throw ScenarioInputError("top level: expected an array of scenarios")
    }
    var scenarios: [Scenario] = []
    var steps = 0
    for (index, element) in elements.enumerated() {
      let place = "scenario \(index)"
      guard case .object(let object) = element else {
        throw ScenarioInputError("\(place): a scenario must be an object")
      }
      try checkKeys(object, required: ["body", "ops"], optional: ["name"], place)
      var name: String?
      if let value = object["name"] { name = try string(value, "\(place).name") }
      let body = try block(object["body"]!, depth: 1, "\(place).body")
      let opValues = try array(object["ops"]!, "\(place).ops")
      var ops: [Operation] = []
      for (opIndex, value) in opValues.enumerated() {
        ops.append(try operation(value, "\(place).ops[\(opIndex)]"))
      }
      steps = Self.steps(body, atMost: maximumSteps - steps) + steps
      guard steps <= maximumSteps else {
        throw ScenarioInputError(
          "\(place).body: the input's bodies would run more than \(maximumSteps) statements "
            + "(repeat counts multiply)")
      }
      scenarios.append(Scenario(name: name, body: body, ops: ops))
    }
    return scenarios
  }

  /// How many statements `block` can run at most (each statement once per pass; a repeat,
  /// its count times its body), or more than `limit` once it is sure to exceed it.
  static func steps(_ block: [Statement], atMost limit: Int) -> Int {
    var total = 0
    for statement in block {
      switch statement {
      case .repeat(let count, let body):
        let inner = steps(body, atMost: limit)
        total += 1 + (count > 0 && inner > limit / count ? limit + 1 : count * inner)
      case .try(let body, let handlers, let finally):
        total += 1 + steps(body, atMost: limit) + steps(finally ?? [], atMost: limit)
        for handler in handlers { total += steps(handler.body, atMost: limit) }
      case .yield, .await, .log, .raise, .return:
        total += 1
      }
      if total > limit { return limit + 1 }
    }
    return total
  }

  private static func block(
    _ value: JSONValue, depth: Int, _ place: String
  ) throws(ScenarioInputError) -> [Statement] {
    var statements: [Statement] = []
    for (index, element) in try array(value, place).enumerated() {
      statements.append(try statement(element, depth: depth, "\(place)[\(index)]"))
    }
    return statements
  }

  private static func statement(
    _ value: JSONValue, depth: Int, _ place: String
  ) throws(ScenarioInputError) -> Statement {
    guard depth <= maximumDepth else {
      throw ScenarioInputError("\(place): statements nested deeper than \(maximumDepth)")
    }
    guard case .object(let object) = value else {
      throw ScenarioInputError("\(place): a statement must be an object")
    }
    let kinds = statementKinds.filter { object[$0] != nil }
    guard kinds.count == 1, let kind = kinds.first else {
      if kinds.isEmpty {
        throw ScenarioInputError(
          "\(place): unknown statement (keys \(list(object.keys.sorted())))")
      }
      throw ScenarioInputError("\(place): statement has several kinds \(list(kinds))")
    }
    let argument = object[kind]!
    let argumentPlace = "\(place).\(kind)"
    switch kind {
    case "yield":
      try checkKeys(object, required: [kind], optional: [], place)
      return .yield(try integer(argument, argumentPlace))
    case "await", "return":
      try checkKeys(object, required: [kind], optional: [], place)
      guard argument == .bool(true) else {
        throw ScenarioInputError("\(argumentPlace): expected true")
      }
      return kind == "await" ? .await : .return
    case "log":
      try checkKeys(object, required: [kind], optional: [], place)
      return .log(try string(argument, argumentPlace))
    case "raise":
      try checkKeys(object, required: [kind], optional: [], place)
      return .raise(try userError(argument, argumentPlace))
    case "repeat":
      try checkKeys(object, required: [kind, "body"], optional: [], place)
      let count = try integer(argument, argumentPlace)
      guard (0...maximumRepeat).contains(count) else {
        throw ScenarioInputError(
          "\(argumentPlace): repeat count must be within 0...\(maximumRepeat), got \(count)")
      }
      return .repeat(count, try block(object["body"]!, depth: depth + 1, "\(place).body"))
    default:
      try checkKeys(object, required: [kind], optional: ["except", "finally"], place)
      let body = try block(argument, depth: depth + 1, argumentPlace)
      var handlers: [Handler] = []
      if let value = object["except"] {
        for (index, element) in try array(value, "\(place).except").enumerated() {
          handlers.append(try handler(element, depth: depth, "\(place).except[\(index)]"))
        }
      }
      var finally: [Statement]?
      if let value = object["finally"] {
        finally = try block(value, depth: depth + 1, "\(place).finally")
      }
      return .try(body, handlers: handlers, finally: finally)
    }
  }

  private static func handler(
    _ value: JSONValue, depth: Int, _ place: String
  ) throws(ScenarioInputError) -> Handler {
    guard case .object(let object) = value else {
      throw ScenarioInputError("\(place): a handler must be an object")
    }
    try checkKeys(object, required: ["match", "body"], optional: ["reraise"], place)
    guard case .string(let name) = object["match"]!, let match = Match(rawValue: name) else {
      throw ScenarioInputError(
        "\(place).match: expected one of \(Match.allCases.map(\.rawValue).joined(separator: ", "))"
      )
    }
    var reraise = false
    if let value = object["reraise"] {
      guard case .bool(let flag) = value else {
        throw ScenarioInputError("\(place).reraise: expected a boolean")
      }
      reraise = flag
    }
    let body = try block(object["body"]!, depth: depth + 1, "\(place).body")
    return Handler(match: match, body: body, reraise: reraise)
  }

  private static func operation(
    _ value: JSONValue, _ place: String
  ) throws(ScenarioInputError) -> Operation {
    guard case .object(let object) = value else {
      throw ScenarioInputError("\(place): an op must be an object")
    }
    guard let kind = object["op"] else { throw ScenarioInputError("\(place): missing key \"op\"") }
    switch kind {
    case .string("next"):
      try checkKeys(object, required: ["op"], optional: [], place)
      return .next
    case .string("close"):
      try checkKeys(object, required: ["op"], optional: [], place)
      return .close
    case .string("send"):
      try checkKeys(object, required: ["op", "value"], optional: [], place)
      return .send(try integer(object["value"]!, "\(place).value"))
    case .string("throw"):
      try checkKeys(object, required: ["op", "error"], optional: [], place)
      return .throwError(try userError(object["error"]!, "\(place).error"))
    default:
      throw ScenarioInputError("\(place).op: expected one of next, send, throw, close")
    }
  }

  // MARK: Values

  private static func checkKeys(
    _ object: JSONObject, required: [String], optional: [String], _ place: String
  ) throws(ScenarioInputError) {
    for key in required where object[key] == nil {
      throw ScenarioInputError("\(place): missing key \(quoted(key))")
    }
    for key in object.keys where !required.contains(key) && !optional.contains(key) {
      throw ScenarioInputError("\(place): unknown key \(quoted(key))")
    }
  }

  private static func array(
    _ value: JSONValue, _ place: String
  ) throws(ScenarioInputError) -> [JSONValue] {
    guard case .array(let elements) = value else {
      throw ScenarioInputError("\(place): expected an array, got \(summary(value))")
    }
    return elements
  }

  private static func integer(_ value: JSONValue, _ place: String) throws(ScenarioInputError) -> Int
  {
    switch value {
    case .integer(let integer):
      return integer
    case .number(let text) where text.allSatisfy({ $0 == "-" || $0.isASCII && $0.isNumber }):
      throw ScenarioInputError("\(place): integer \(text.prefix(40)) out of the 64-bit range")
    default:
      throw ScenarioInputError("\(place): expected an integer, got \(summary(value))")
    }
  }

  private static func string(_ value: JSONValue, _ place: String) throws(ScenarioInputError)
    -> String
  {
    guard case .string(let string) = value else {
      throw ScenarioInputError("\(place): expected a string, got \(summary(value))")
    }
    return string
  }

  private static func userError(
    _ value: JSONValue, _ place: String
  ) throws(ScenarioInputError) -> UserError {
    guard case .string(let name) = value, let error = UserError(rawValue: name) else {
      throw ScenarioInputError("\(place): expected one of E1, E2, E3, got \(summary(value))")
    }
    return error
  }

  private static func quoted(_ key: String) -> String {
    JSONValue.string(key).text
  }

  /// `["a", "b"]`
  private static func list(_ keys: [String]) -> String {
    "[" + keys.map(quoted).joined(separator: ", ") + "]"
  }

  /// The value as JSON text, cut short: enough to recognise it in an error message.
  private static func summary(_ value: JSONValue) -> String {
    let text: String
    switch value {
    case .array: text = "an array"
    case .object: text = "an object"
    default: text = value.text
    }
    return text.count > 40 ? text.prefix(40) + "..." : text
  }
}
