// A small JSON value type: what metrics.json, Bench records and checkpoint headers are made of.
// Written out (no Foundation JSONSerialization) so the output is byte-for-byte stable: keys
// sorted, integers without ".0", the shortest decimal that reads back as the same Double.
// Grammar: RFC 8259, https://www.rfc-editor.org/rfc/rfc8259
import SharedKernels

/// A JSON document: a number, string, bool, array, object or null.
/// Literals work directly: `let config: [String: JSONValue] = ["epochs": 10, "lr": 0.1, "model": "mlp"]`.
public enum JSONValue: Equatable, Sendable {
    case number(Double)
    case string(String)
    case bool(Bool)
    case array([JSONValue])
    case object([String: JSONValue])
    case null
}

// MARK: - Literals and conversions

extension JSONValue: ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral, ExpressibleByStringLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral,
    ExpressibleByNilLiteral
{
    public init(integerLiteral value: Int) { self = .number(Double(value)) }
    public init(floatLiteral value: Double) { self = .number(value) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
    public init(nilLiteral: ()) { self = .null }

    /// Conversions from the numeric types a program has at hand (`.init(epochs)`, `.init(loss)`).
    public init(_ value: Int) { self = .number(Double(value)) }
    public init(_ value: UInt64) { self = .number(Double(value)) }
    /// A Float is recorded by its shortest decimal (0.1, not 0.10000000149011612).
    public init(_ value: Float) { self = .number(value.isFinite ? Double("\(value)") ?? Double(value) : Double(value)) }
    public init(_ value: Double) { self = .number(value) }
    public init(_ value: String) { self = .string(value) }
    public init(_ value: Bool) { self = .bool(value) }
    public init(_ values: [Int]) { self = .array(values.map { .number(Double($0)) }) }
    public init(_ values: [Double]) { self = .array(values.map { .number($0) }) }
}

// MARK: - Reading values back

extension JSONValue {
    /// The number, or nil when this is not a number.
    public var doubleValue: Double? { if case .number(let x) = self { return x } else { return nil } }
    /// The number as an Int, or nil when this is not a whole number that fits an Int.
    public var intValue: Int? {
        guard case .number(let x) = self, x.rounded() == x, abs(x) < 9.0e15 else { return nil }
        return Int(x)
    }
    public var stringValue: String? { if case .string(let s) = self { return s } else { return nil } }
    public var boolValue: Bool? { if case .bool(let b) = self { return b } else { return nil } }
    public var arrayValue: [JSONValue]? { if case .array(let a) = self { return a } else { return nil } }
    public var objectValue: [String: JSONValue]? { if case .object(let o) = self { return o } else { return nil } }

    /// `value["final"]?["test_accuracy"]`: the member of an object, nil otherwise.
    public subscript(key: String) -> JSONValue? {
        if case .object(let members) = self { return members[key] }
        return nil
    }
    /// `value["history"]?[0]`: the element of an array, nil when out of range or not an array.
    public subscript(index: Int) -> JSONValue? {
        if case .array(let elements) = self, elements.indices.contains(index) { return elements[index] }
        return nil
    }
}

// MARK: - Writing

extension JSONValue: CustomStringConvertible {
    public var description: String { serialized(pretty: false) }

    /// The JSON text. Object keys are sorted, so the same value always gives the same bytes.
    /// NaN and ±infinity have no JSON spelling and are written as `null`.
    /// pretty: two-space indentation, one member per line (arrays of plain numbers stay on one line).
    public func serialized(pretty: Bool = false) -> String {
        var out = ""
        write(into: &out, pretty: pretty, indent: 0)
        return out
    }

    private func write(into out: inout String, pretty: Bool, indent: Int) {
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .number(let x): out += JSONValue.formatNumber(x)
        case .string(let s): out += JSONValue.quote(s)
        case .array(let elements):
            if elements.isEmpty { out += "[]"; return }
            let allScalars = elements.allSatisfy(\.isScalar)
            if !pretty || allScalars {
                out += "["
                for (i, element) in elements.enumerated() {
                    if i > 0 { out += pretty ? ", " : "," }
                    element.write(into: &out, pretty: pretty, indent: indent)
                }
                out += "]"
            } else {
                out += "[\n"
                for (i, element) in elements.enumerated() {
                    out += String(repeating: " ", count: indent + 2)
                    // A flat object (a history row) stays on one line: one row per line.
                    if case .object(let members) = element, members.values.allSatisfy(\.isScalar) {
                        out += "{" + members.keys.sorted().map { JSONValue.quote($0) + ": " + members[$0]!.serialized() }
                            .joined(separator: ", ") + "}"
                    } else {
                        element.write(into: &out, pretty: pretty, indent: indent + 2)
                    }
                    out += i + 1 < elements.count ? ",\n" : "\n"
                }
                out += String(repeating: " ", count: indent) + "]"
            }
        case .object(let members):
            if members.isEmpty { out += "{}"; return }
            let keys = members.keys.sorted()
            out += pretty ? "{\n" : "{"
            for (i, key) in keys.enumerated() {
                if pretty { out += String(repeating: " ", count: indent + 2) }
                out += JSONValue.quote(key) + (pretty ? ": " : ":")
                members[key]!.write(into: &out, pretty: pretty, indent: indent + 2)
                if i + 1 < keys.count { out += "," }
                if pretty { out += "\n" }
            }
            if pretty { out += String(repeating: " ", count: indent) }
            out += "}"
        }
    }

    /// Numbers, strings, bools and null: values with no members.
    var isScalar: Bool {
        switch self {
        case .array, .object: return false
        default: return true
        }
    }

    /// Whole numbers print without a fraction ("10", not "10.0"); others use Swift's shortest
    /// round-tripping form ("0.1", "1e-05"), which is valid JSON.
    static func formatNumber(_ x: Double) -> String {
        guard x.isFinite else { return "null" }
        if x == x.rounded() && abs(x) < 1e15 {
            return x == 0 ? "0" : String(Int64(x))   // also turns -0 into "0"
        }
        return "\(x)"
    }

    /// A JSON string literal: quotes, backslashes and control characters escaped.
    public static func quote(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}

// MARK: - Parsing

extension JSONValue {
    /// Parses JSON text. Throws a `WorkbookError` naming the byte offset of the first problem.
    /// Only whitespace may follow the value.
    public static func parse(_ text: String) throws -> JSONValue {
        var parser = JSONParser(bytes: Array(text.utf8))
        return try parser.parseDocument()
    }

    /// Parses JSON from raw UTF-8 bytes (checkpoint headers). Invalid UTF-8 is an error.
    public static func parse(utf8 bytes: [UInt8]) throws -> JSONValue {
        guard String(validating: bytes, as: UTF8.self) != nil else {
            throw WorkbookError("JSON text is not valid UTF-8")
        }
        var parser = JSONParser(bytes: bytes)
        return try parser.parseDocument()
    }
}

/// A recursive-descent parser over UTF-8 bytes: one function per grammar rule.
struct JSONParser {
    let bytes: [UInt8]
    var position = 0
    /// Deeper nesting than this is rejected rather than risking a stack overflow.
    let maximumDepth = 512

    init(bytes: [UInt8]) { self.bytes = bytes }

    mutating func parseDocument() throws -> JSONValue {
        skipWhitespace()
        let value = try parseValue(depth: 0)
        skipWhitespace()
        if position < bytes.count { throw error("unexpected text after the JSON value") }
        return value
    }

    private func error(_ message: String) -> WorkbookError {
        WorkbookError("invalid JSON at byte \(position): \(message)")
    }

    private mutating func skipWhitespace() {
        while position < bytes.count, [0x20, 0x0A, 0x0D, 0x09].contains(bytes[position]) { position += 1 }
    }

    private mutating func parseValue(depth: Int) throws -> JSONValue {
        guard depth < maximumDepth else { throw error("nested too deeply") }
        guard position < bytes.count else { throw error("unexpected end of text") }
        switch bytes[position] {
        case UInt8(ascii: "{"): return try parseObject(depth: depth)
        case UInt8(ascii: "["): return try parseArray(depth: depth)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectWord("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectWord("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectWord("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
        default: throw error("unexpected character '\(Character(Unicode.Scalar(bytes[position])))'")
        }
    }

    private mutating func expectWord(_ word: String) throws {
        let w = Array(word.utf8)
        guard position + w.count <= bytes.count, Array(bytes[position..<position + w.count]) == w else {
            throw error("expected '\(word)'")
        }
        position += w.count
    }

    private mutating func parseObject(depth: Int) throws -> JSONValue {
        position += 1  // '{'
        var members: [String: JSONValue] = [:]
        skipWhitespace()
        if position < bytes.count, bytes[position] == UInt8(ascii: "}") { position += 1; return .object(members) }
        while true {
            skipWhitespace()
            guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else { throw error("expected a string key") }
            let key = try parseString()
            skipWhitespace()
            guard position < bytes.count, bytes[position] == UInt8(ascii: ":") else { throw error("expected ':'") }
            position += 1
            skipWhitespace()
            if members[key] != nil { throw error("duplicate key \"\(key)\"") }
            members[key] = try parseValue(depth: depth + 1)
            skipWhitespace()
            guard position < bytes.count else { throw error("unterminated object") }
            if bytes[position] == UInt8(ascii: ",") { position += 1; continue }
            if bytes[position] == UInt8(ascii: "}") { position += 1; return .object(members) }
            throw error("expected ',' or '}'")
        }
    }

    private mutating func parseArray(depth: Int) throws -> JSONValue {
        position += 1  // '['
        var elements: [JSONValue] = []
        skipWhitespace()
        if position < bytes.count, bytes[position] == UInt8(ascii: "]") { position += 1; return .array(elements) }
        while true {
            skipWhitespace()
            elements.append(try parseValue(depth: depth + 1))
            skipWhitespace()
            guard position < bytes.count else { throw error("unterminated array") }
            if bytes[position] == UInt8(ascii: ",") { position += 1; continue }
            if bytes[position] == UInt8(ascii: "]") { position += 1; return .array(elements) }
            throw error("expected ',' or ']'")
        }
    }

    /// number = [-] int [frac] [exp], checked against the grammar, then converted by `Double(_:)`.
    private mutating func parseNumber() throws -> Double {
        let start = position
        func digits() -> Int {
            let first = position
            while position < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[position]) { position += 1 }
            return position - first
        }
        if bytes[position] == UInt8(ascii: "-") { position += 1 }
        let leadingZero = position < bytes.count && bytes[position] == UInt8(ascii: "0")
        let integerDigits = digits()
        if integerDigits == 0 { throw error("expected digits") }
        if leadingZero && integerDigits > 1 { throw error("numbers may not have leading zeros") }
        if position < bytes.count, bytes[position] == UInt8(ascii: ".") {
            position += 1
            if digits() == 0 { throw error("expected digits after '.'") }
        }
        if position < bytes.count, bytes[position] == UInt8(ascii: "e") || bytes[position] == UInt8(ascii: "E") {
            position += 1
            if position < bytes.count, bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-") { position += 1 }
            if digits() == 0 { throw error("expected digits in the exponent") }
        }
        let text = String(decoding: bytes[start..<position], as: UTF8.self)
        guard let value = Double(text) else { throw error("bad number '\(text)'") }
        return value
    }

    private mutating func parseString() throws -> String {
        position += 1  // opening quote
        var scalars = String.UnicodeScalarView()
        var runStart = position  // unescaped bytes are copied in runs
        func flushRun(_ end: Int) {
            scalars.append(contentsOf: String(decoding: bytes[runStart..<end], as: UTF8.self).unicodeScalars)
        }
        while position < bytes.count {
            let byte = bytes[position]
            if byte == UInt8(ascii: "\"") {
                flushRun(position)
                position += 1
                return String(scalars)
            }
            if byte < 0x20 { throw error("control character in string") }
            if byte != UInt8(ascii: "\\") { position += 1; continue }
            flushRun(position)
            position += 1
            guard position < bytes.count else { break }
            let escape = bytes[position]
            position += 1
            switch escape {
            case UInt8(ascii: "\""): scalars.append("\"")
            case UInt8(ascii: "\\"): scalars.append("\\")
            case UInt8(ascii: "/"): scalars.append("/")
            case UInt8(ascii: "b"): scalars.append("\u{08}")
            case UInt8(ascii: "f"): scalars.append("\u{0C}")
            case UInt8(ascii: "n"): scalars.append("\n")
            case UInt8(ascii: "r"): scalars.append("\r")
            case UInt8(ascii: "t"): scalars.append("\t")
            case UInt8(ascii: "u"):
                var code = try parseHex4()
                // A UTF-16 surrogate pair (\uD83D\uDE00) encodes one scalar above U+FFFF.
                if (0xD800..<0xDC00).contains(code) {
                    guard position + 1 < bytes.count, bytes[position] == UInt8(ascii: "\\"),
                          bytes[position + 1] == UInt8(ascii: "u") else { throw error("unpaired surrogate") }
                    position += 2
                    let low = try parseHex4()
                    guard (0xDC00..<0xE000).contains(low) else { throw error("unpaired surrogate") }
                    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                }
                guard let scalar = Unicode.Scalar(code) else { throw error("invalid \\u escape") }
                scalars.append(scalar)
            default: throw error("invalid escape '\\\(Character(Unicode.Scalar(escape)))'")
            }
            runStart = position
        }
        throw error("unterminated string")
    }

    private mutating func parseHex4() throws -> UInt32 {
        guard position + 4 <= bytes.count,
              bytes[position..<position + 4].allSatisfy({ Character(Unicode.Scalar($0)).isHexDigit }),
              let code = UInt32(String(decoding: bytes[position..<position + 4], as: UTF8.self), radix: 16)
        else { throw error("expected 4 hex digits after \\u") }
        position += 4
        return code
    }
}
