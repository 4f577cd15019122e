// The week 3 program end to end, in-process: the --quick configuration on the embedded digits,
// its accuracy, its outputs, and bit-for-bit determinism for a fixed seed.
import Foundation
import Testing
import Shared
@testable import Week03MLP

@Suite struct Week03RunTests {
    /// A fresh folder under the system's temporary directory (tests never write into the repo).
    func temporaryFolder() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("week03-\(UUID().uuidString)").path
    }

    /// The config main.swift would build from these arguments.
    func config(_ arguments: [String]) -> Week03Config {
        let options = Options(program: "Week03MLP", summary: "test", arguments: ["Week03MLP"] + arguments)
        let config = Week03Config(options)
        #expect(options.parse() == .run)
        return config
    }

    @Test func quickRunOnDigitsReaches90PercentAndWritesItsOutputs() throws {
        let out = temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: out) }
        let result = try runWeek03(config(["--quick", "--dataset", "digits", "--out", out]))
        #expect(result.config.dataset == "digits")
        #expect(result.divergence == nil)
        #expect(result.testAccuracy >= 0.90, "test accuracy \(result.testAccuracy)")
        #expect(result.gradientCheck.allSatisfy { $0.passed })
        #expect(result.trainLosses.last! < result.trainLosses.first!)
        for name in ["metrics.json", "loss.svg", "accuracy.svg", "confusion.svg", "misclassified.svg", "gradient_norms.svg"] {
            #expect(FileManager.default.fileExists(atPath: out + "/" + name), "missing \(name)")
        }
        // metrics.json: the contract's keys, fractions not percentages.
        let metrics = try JSONValue.parse(String(contentsOfFile: out + "/metrics.json", encoding: .utf8))
        guard case .object(let document) = metrics, case .array(let history)? = document["history"],
              case .object(let first)? = history.first, case .object(let final)? = document["final"],
              case .number(let accuracy)? = final["test_accuracy"] else {
            Issue.record("metrics.json lacks history or final.test_accuracy")
            return
        }
        #expect(history.count == result.history.count)
        for key in ["epoch", "train_loss", "val_loss", "test_accuracy", "seconds"] {
            #expect(first[key] != nil, "history row lacks \(key)")
        }
        #expect(accuracy == result.testAccuracy && accuracy <= 1)
    }

    @Test func sameSeedGivesTheSameLossesBitForBit() throws {
        let out = temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: out) }
        let arguments = ["--quick", "--dataset", "digits", "--epochs", "2", "--no-plots", "--out", out]
        let first = try runWeek03(config(arguments + ["--seed", "5"]))
        let second = try runWeek03(config(arguments + ["--seed", "5"]))
        let other = try runWeek03(config(arguments + ["--seed", "6"]))
        #expect(first.batchLosses.count > 50)
        #expect(first.batchLosses.map(\.bitPattern) == second.batchLosses.map(\.bitPattern))
        #expect(first.trainLosses.map(\.bitPattern) == second.trainLosses.map(\.bitPattern))
        #expect(first.batchLosses != other.batchLosses)
    }

    @Test func zeroInitExperimentNeverBreaksSymmetry() throws {
        let out = temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: out) }
        let result = try runWeek03(config(["--quick", "--dataset", "digits", "--experiment", "symmetry",
                                           "--epochs", "2", "--no-plots", "--out", out]))
        #expect(result.config.initialization == .zero)
        #expect(result.history.allSatisfy { $0.spread == 0 })
    }

    @Test func tooLargeLearningRateKillsReLUs() throws {
        let out = temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: out) }
        let normal = try runWeek03(config(["--quick", "--dataset", "digits", "--no-plots", "--out", out]))
        let large = try runWeek03(config(["--quick", "--dataset", "digits", "--experiment", "dead-relu",
                                          "--no-plots", "--out", out]))
        // Either many units die or the run diverges (reported, not printed as NaN).
        #expect(large.divergence != nil || large.test.deadFraction > normal.test.deadFraction + 0.1,
                "dead \(large.test.deadFraction) vs \(normal.test.deadFraction)")
    }

    @Test func badValuesAreRejectedByTheParser() {
        let options = Options(program: "Week03MLP", summary: "test", arguments: ["Week03MLP", "--epochs", "ten"])
        _ = Week03Config(options)
        if case .error = options.parse() {} else { Issue.record("--epochs ten was accepted") }
    }
}
