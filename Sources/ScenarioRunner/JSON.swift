/// A JSON value as the scenario format needs it: integers apart from other numbers, and
/// objects that keep their keys in order (for output) but compare without regard to it.
enum JSONValue: Sendable, Equatable {
  case null
  case bool(Bool)
  /// A number literal with no fraction or exponent that fits in an `Int`.
  case integer(Int)
  /// Any other number literal, as written.
  case number(String)
  case string(String)
  case array([JSONValue])
  case object(JSONObject)
}

/// The members of a JSON object, in order, with no key twice.
struct JSONObject: Sendable, Equatable {
  var members: [(key: String, value: JSONValue)]

  init(_ members: [(key: String, value: JSONValue)] = []) {
    self.members = members
  }

  var keys: [String] { members.map(\.key) }

  subscript(key: String) -> JSONValue? {
    members.first { $0.key == key }?.value
  }

  /// Equal when both have the same keys with equal values, in any order.
  static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
    lhs.members.count == rhs.members.count
      && lhs.members.allSatisfy { member in rhs[member.key] == member.value }
  }
}

// MARK: - Parsing

/// A strict JSON parser (RFC 8259) over UTF-8 bytes that never recurses deeper than
/// ``maximumDepth`` arrays and objects, so hostile nesting is an error, not a stack overflow.
struct JSONParser {
  /// Deeper than any valid scenario input: a statement at depth 32 sits 128 levels down.
  static let maximumDepth = 160

  private let bytes: [UInt8]
  private var index = 0
  private var depth = 0

  private init(bytes: [UInt8]) {
    self.bytes = bytes
  }

  /// Parses one JSON text; the bytes must be valid UTF-8 (checked by the caller).
  static func parse(_ bytes: [UInt8]) throws(ScenarioInputError) -> JSONValue {
    var parser = JSONParser(bytes: bytes)
    let value = try parser.parseValue()
    parser.skipWhitespace()
    guard parser.index == bytes.count else { throw parser.failure("extra data after the value") }
    return value
  }

  private mutating func parseValue() throws(ScenarioInputError) -> JSONValue {
    skipWhitespace()
    guard index < bytes.count else { throw failure("unexpected end of input, expected a value") }
    switch bytes[index] {
    case UInt8(ascii: "{"): return try parseObject()
    case UInt8(ascii: "["): return try parseArray()
    case UInt8(ascii: "\""): return .string(try parseString())
    case UInt8(ascii: "t"): return try parseLiteral("true", .bool(true))
    case UInt8(ascii: "f"): return try parseLiteral("false", .bool(false))
    case UInt8(ascii: "n"): return try parseLiteral("null", .null)
    case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
    default: throw failure("expected a value, found \(describe(bytes[index]))")
    }
  }

  private mutating func enterContainer() throws(ScenarioInputError) {
    depth += 1
    guard depth <= Self.maximumDepth else {
      throw failure(
        "arrays and objects nested deeper than \(Self.maximumDepth) levels "
          + "(statements may nest at most \(ScenarioParser.maximumDepth) deep)")
    }
  }

  private mutating func parseObject() throws(ScenarioInputError) -> JSONValue {
    try enterContainer()
    index += 1
    var object = JSONObject()
    var keys = Set<String>()
    skipWhitespace()
    if consume(UInt8(ascii: "}")) {
      depth -= 1
      return .object(object)
    }
    while true {
      skipWhitespace()
      guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else {
        throw failure("expected a property name in double quotes")
      }
      let keyStart = index
      let key = try parseString()
      guard keys.insert(key).inserted else {
        index = keyStart
        throw failure("duplicate key \"\(key)\"")
      }
      skipWhitespace()
      guard consume(UInt8(ascii: ":")) else { throw failure("expected ':' after a property name") }
      object.members.append((key, try parseValue()))
      skipWhitespace()
      if consume(UInt8(ascii: ",")) { continue }
      if consume(UInt8(ascii: "}")) { break }
      throw failure("expected ',' or '}' in an object")
    }
    depth -= 1
    return .object(object)
  }

  private mutating func parseArray() throws(ScenarioInputError) -> JSONValue {
    try enterContainer()
    index += 1
    var elements: [JSONValue] = []
    skipWhitespace()
    if consume(UInt8(ascii: "]")) {
      depth -= 1
      return .array(elements)
    }
    while true {
      elements.append(try parseValue())
      skipWhitespace()
      if consume(UInt8(ascii: ",")) { continue }
      if consume(UInt8(ascii: "]")) { break }
      throw failure("expected ',' or ']' in an array")
    }
    depth -= 1
    return .array(elements)
  }

  private mutating func parseString() throws(ScenarioInputError) -> String {
    let start = index
    index += 1
    var utf8: [UInt8] = []
    while true {
      guard index < bytes.count else {
        index = start
        throw failure("unterminated string")
      }
      let byte = bytes[index]
      index += 1
      switch byte {
      case UInt8(ascii: "\""):
        return String(decoding: utf8, as: UTF8.self)
      case UInt8(ascii: "\\"):
        try parseEscape(into: &utf8)
      case 0..<0x20:
        index -= 1
        throw failure("control character \(describe(byte)) in a string")
      default:
        utf8.append(byte)
      }
    }
  }

  private mutating func parseEscape(into utf8: inout [UInt8]) throws(ScenarioInputError) {
    guard index < bytes.count else { throw failure("unterminated string") }
    let byte = bytes[index]
    index += 1
    let simple: UInt8? =
      switch byte {
      case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): byte
      case UInt8(ascii: "b"): 0x08
      case UInt8(ascii: "f"): 0x0C
      case UInt8(ascii: "n"): 0x0A
      case UInt8(ascii: "r"): 0x0D
      case UInt8(ascii: "t"): 0x09
      default: nil
      }
    if let simple {
      utf8.append(simple)
      return
    }
    guard byte == UInt8(ascii: "u") else {
      index -= 2
      throw failure("invalid escape \(describe(byte)) in a string")
    }
    let escapeStart = index - 2
    var code = try parseHex4()
    if (0xD800..<0xDC00).contains(code) {
      guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"),
        bytes[index + 1] == UInt8(ascii: "u")
      else {
        index = escapeStart
        throw failure("lone surrogate in a string")
      }
      index += 2
      let low = try parseHex4()
      guard (0xDC00..<0xE000).contains(low) else {
        index = escapeStart
        throw failure("lone surrogate in a string")
      }
      code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
    } else if (0xDC00..<0xE000).contains(code) {
      index = escapeStart
      throw failure("lone surrogate in a string")
    }
    // Not a surrogate: always a valid scalar.
    utf8.append(contentsOf: String(Character(Unicode.Scalar(code)!)).utf8)
  }

  private mutating func parseHex4() throws(ScenarioInputError) -> UInt32 {
    var code: UInt32 = 0
    for _ in 0..<4 {
      guard index < bytes.count, let digit = hexValue(bytes[index]) else {
        throw failure("invalid \\u escape in a string")
      }
      code = code << 4 | digit
      index += 1
    }
    return code
  }

  private mutating func parseNumber() throws(ScenarioInputError) -> JSONValue {
    let start = index
    _ = consume(UInt8(ascii: "-"))
    if consume(UInt8(ascii: "0")) {
      // A leading zero stands alone.
    } else if consumeDigits() == 0 {
      throw failure("invalid number")
    }
    var isInteger = true
    if consume(UInt8(ascii: ".")) {
      isInteger = false
      guard consumeDigits() > 0 else { throw failure("invalid number: digits expected after '.'") }
    }
    if consume(UInt8(ascii: "e")) || consume(UInt8(ascii: "E")) {
      isInteger = false
      if !consume(UInt8(ascii: "+")) { _ = consume(UInt8(ascii: "-")) }
      guard consumeDigits() > 0 else { throw failure("invalid number: exponent digits expected") }
    }
    let text = String(decoding: bytes[start..<index], as: UTF8.self)
    if isInteger, let value = Int(text) { return .integer(value) }
    return .number(text)
  }

  private mutating func consumeDigits() -> Int {
    var count = 0
    while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) {
      index += 1
      count += 1
    }
    return count
  }

  private mutating func parseLiteral(
    _ word: String, _ value: JSONValue
  ) throws(ScenarioInputError) -> JSONValue {
    let utf8 = Array(word.utf8)
    guard bytes.count - index >= utf8.count, bytes[index..<index + utf8.count].elementsEqual(utf8)
    else { throw failure("expected a value, found \(describe(bytes[index]))") }
    index += utf8.count
    return value
  }

  private mutating func skipWhitespace() {
    while index < bytes.count {
      switch bytes[index] {
      case 0x20, 0x09, 0x0A, 0x0D: index += 1
      default: return
      }
    }
  }

  private mutating func consume(_ byte: UInt8) -> Bool {
    guard index < bytes.count, bytes[index] == byte else { return false }
    index += 1
    return true
  }

  private func hexValue(_ byte: UInt8) -> UInt32? {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt32(byte - UInt8(ascii: "0"))
    case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt32(byte - UInt8(ascii: "a") + 10)
    case UInt8(ascii: "A")...UInt8(ascii: "F"): UInt32(byte - UInt8(ascii: "A") + 10)
    default: nil
    }
  }

  private func describe(_ byte: UInt8) -> String {
    (0x21..<0x7F).contains(byte)
      ? "'\(Character(Unicode.Scalar(byte)))'"
      : "byte 0x\(String(byte, radix: 16, uppercase: true))"
  }

  /// An error naming the current position as a line and a column (both counted from 1).
  private func failure(_ message: String) -> ScenarioInputError {
    let position = Swift.min(index, bytes.count)
    var line = 1
    var lineStart = 0
    for offset in 0..<position where bytes[offset] == 0x0A {
      line += 1
      lineStart = offset + 1
    }
    return ScenarioInputError(
      "invalid JSON: \(message) at line \(line) column \(position - lineStart + 1)")
  }
}

// MARK: - Writing

extension JSONValue {
  /// Compact JSON text, byte for byte as Python's `json.dumps(value, separators=(",", ":"))`
  /// writes it (keys in order, non-ASCII escaped as `\uXXXX`).
  var text: String {
    var output = ""
    write(to: &output)
    return output
  }

  func write(to output: inout String) {
    switch self {
    case .null: output += "null"
    case .bool(let value): output += value ? "true" : "false"
    case .integer(let value): output += String(value)
    case .number(let text): output += text
    case .string(let string): Self.writeString(string, to: &output)
    case .array(let elements):
      output += "["
      for (offset, element) in elements.enumerated() {
        if offset > 0 { output += "," }
        element.write(to: &output)
      }
      output += "]"
    case .object(let object):
      output += "{"
      for (offset, member) in object.members.enumerated() {
        if offset > 0 { output += "," }
        Self.writeString(member.key, to: &output)
        output += ":"
        member.value.write(to: &output)
      }
      output += "}"
    }
  }

  private static func writeString(_ string: String, to output: inout String) {
    output += "\""
    for scalar in string.unicodeScalars {
      switch scalar {
      case "\"": output += "\\\""
      case "\\": output += "\\\\"
      case "\u{08}": output += "\\b"
      case "\u{0C}": output += "\\f"
      case "\n": output += "\\n"
      case "\r": output += "\\r"
      case "\t": output += "\\t"
      case " "..."~": output.unicodeScalars.append(scalar)
      default:
        for unit in String(scalar).utf16 {
          let hex = String(unit, radix: 16)
          output += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        }
      }
    }
    output += "\""
  }
}
