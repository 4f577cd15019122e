// metrics.json has the shape DESIGN.md fixes: {"week", "config", "final", "history"}.
import Testing
@testable import Shared
@testable import SharedKernels
@testable import SharedTools
@testable import SharedData
@testable import SharedNN

@Suite struct MetricsTests {
    @Test func writesTheDesignShape() throws {
        let folder = ToolsTestSupport.temporaryFolder()
        defer { ToolsTestSupport.remove(folder + "/run"); ToolsTestSupport.remove(folder) }

        let options = Options(program: "Week03MLP", summary: "test",
                              arguments: ["Week03MLP", "--epochs", "2", "--data-dir=/data"])
        _ = options.int("epochs", default: 10, help: "passes")
        _ = options.optionalString("data-dir", help: "folder")
        let metrics = MetricsLog(week: "Week03MLP", config: options.config)
        metrics.record(["epoch": 1, "train_loss": 0.5, "test_accuracy": 0.9, "seconds": 1.25])
        metrics.record(["epoch": 2, "train_loss": 0.25, "test_accuracy": 0.95, "seconds": 2.5])
        #expect(metrics.history.count == 2)
        let path = try metrics.write(final: ["test_accuracy": 0.95, "steps": 200], to: folder + "/run/")
        #expect(path == folder + "/run/metrics.json")

        let document = try JSONValue.parse(readTextFile(path))
        guard case .object(let top) = document else { Issue.record("not an object"); return }
        #expect(top.keys.sorted() == ["config", "final", "history", "week"])
        #expect(document["week"] == "Week03MLP")
        #expect(document["config"] == ["epochs": 2, "data_dir": "/data"])
        #expect(document["final"]?["test_accuracy"] == 0.95)
        #expect(document["history"]?.arrayValue?.count == 2)
        #expect(document["history"]?[1]?["train_loss"] == 0.25)
        #expect(document["history"]?[0]?["epoch"] == 1)
        // One history row per line, so long runs stay readable.
        let text = try readTextFile(path)
        #expect(text.contains(#"    {"epoch": 2, "seconds": 2.5, "test_accuracy": 0.95, "train_loss": 0.25}"#))
        // The temporary file used for the atomic write is gone.
        #expect(!ToolsTestSupport.fileExists(path + ".tmp"))
    }

    @Test func divergedLossIsWrittenAsNull() throws {
        let metrics = MetricsLog(week: "Week04Training", config: [:])
        metrics.record(["epoch": 1, "train_loss": .nan])
        let text = metrics.document(final: [:]).serialized(pretty: false)
        #expect(text == #"{"config":{},"final":{},"history":[{"epoch":1,"train_loss":null}],"week":"Week04Training"}"#)
        #expect(try JSONValue.parse(text)["history"]?[0]?["train_loss"] == .null)
    }

    @Test func unwritableFolderThrowsOneLine() {
        let metrics = MetricsLog(week: "Week01Perceptron", config: [:])
        do {
            try metrics.write(final: [:], to: "/proc/no-such-folder/run")
            Issue.record("write to /proc succeeded")
        } catch {
            #expect("\(error)".hasPrefix("cannot create folder /proc/no-such-folder"))
            #expect(!"\(error)".contains("\n"))
        }
    }

    @Test func joinPathPutsOneSlash() {
        #expect(joinPath("runs/Week03/", "metrics.json") == "runs/Week03/metrics.json")
        #expect(joinPath("runs/Week03", "metrics.json") == "runs/Week03/metrics.json")
        #expect(joinPath("", "metrics.json") == "metrics.json")
    }
}
