// JSON: writing is stable (sorted keys, integers without ".0"), parsing reads back exactly what
// was written, and malformed text is refused with the byte offset of the problem.
import Testing
@testable import Shared
@testable import SharedKernels
@testable import SharedTools
@testable import SharedData
@testable import SharedNN

@Suite struct ToolsJSONTests {
    @Test func roundTripOfANestedDocument() throws {
        let value: JSONValue = [
            "week": "Week03MLP",
            "config": ["epochs": 10, "lr": 0.001, "layers": [784, 128, 10], "data_dir": nil, "quick": false],
            "history": [["epoch": 1, "train_loss": 2.302585092994046], ["epoch": 2, "train_loss": 1e-7]],
            "text": "quote \" backslash \\ newline \n tab \t bell \u{07} é 😀",
        ]
        for pretty in [false, true] {
            let text = value.serialized(pretty: pretty)
            #expect(try JSONValue.parse(text) == value)
        }
    }

    @Test func serializationIsSortedAndCompact() {
        let value: JSONValue = ["b": 1, "a": [1.5, -0.0, 3], "c": true]
        #expect(value.serialized(pretty: false) == #"{"a":[1.5,0,3],"b":1,"c":true}"#)
        #expect(value.serialized(pretty: true) == "{\n  \"a\": [1.5, 0, 3],\n  \"b\": 1,\n  \"c\": true\n}")
    }

    @Test func numbersAreShortestRoundTripAndNonFiniteIsNull() throws {
        #expect(JSONValue(10).serialized() == "10")
        #expect(JSONValue(0.1).serialized() == "0.1")
        #expect(JSONValue(Double.nan).serialized() == "null")
        #expect(JSONValue(-Double.infinity).serialized() == "null")
        for x in [0.1, 1.0 / 3.0, 1e-300, 6.02e23, -2.5e-5, 123_456_789_012.0, Double(Float(0.1))] {
            #expect(try JSONValue.parse(JSONValue(x).serialized()) == .number(x))
        }
        #expect(try JSONValue.parse("-12.5e2") == -1250)
    }

    @Test func escapesAndSurrogatePairs() throws {
        #expect(JSONValue("a\"b\\c\nd\u{01}").serialized() == #""a\"b\\c\nd\u0001""#)
        #expect(try JSONValue.parse(#""\ud83d\ude00 \u00e9 \/""#) == "😀 é /")
    }

    @Test func malformedTextIsRefused() {
        for text in ["", "{", "[1,]", "{\"a\":1,}", "01", "1.", "tru", "\"open", "{\"a\" 1}", "[1] 2",
                     "\"\\x\"", "\"\\u+0ab\"", "\"\\ud83d\"", "{\"a\":1,\"a\":2}", "\"tab\there\""] {
            #expect(throws: WorkbookError.self, "accepted \(text)") { try JSONValue.parse(text) }
        }
        #expect(throws: WorkbookError.self) { try JSONValue.parse(utf8: [0x22, 0xC3, 0x22]) }  // invalid UTF-8
    }

    @Test func accessors() throws {
        let value = try JSONValue.parse(#"{"final": {"acc": 0.97, "steps": 300}, "history": [{"epoch": 1}], "name": "x"}"#)
        #expect(value["final"]?["acc"]?.doubleValue == 0.97)
        #expect(value["final"]?["steps"]?.intValue == 300)
        #expect(value["history"]?[0]?["epoch"]?.intValue == 1)
        #expect(value["history"]?[1] == nil)
        #expect(value["name"]?.stringValue == "x")
        #expect(value["missing"] == nil)
    }
}
