// Command-line parsing: both spellings of a value, kebab/snake names, and every kind of bad
// command line giving one "error: ..." line (the exit happens in finish(), which uses parse()).
import Testing
@testable import Shared
@testable import SharedKernels
@testable import SharedTools
@testable import SharedData
@testable import SharedNN

@Suite struct OptionsTests {
    /// Options over a command line written as one string ("--epochs 5 --quick").
    func options(_ commandLine: String) -> Options {
        Options(program: "Week99Test", summary: "a test program",
                arguments: ["/path/to/Week99Test"] + commandLine.split(separator: " ").map(String.init))
    }

    @Test func readsSpaceAndEqualsSpellings() {
        let o = options("--epochs 5 --lr=0.25 --model=mlp --layers 784,128,10 --name=a=b")
        #expect(o.int("epochs", default: 10, help: "passes") == 5)
        #expect(o.float("lr", default: 0.1, help: "step size") == 0.25)
        #expect(o.choice("model", default: "linear", choices: ["linear", "mlp"], help: "model") == "mlp")
        #expect(o.intList("layers", default: [64, 10], help: "sizes") == [784, 128, 10])
        #expect(o.string("name", default: "", help: "run name") == "a=b")
        #expect(o.parse() == .run)
    }

    @Test func defaultsWhenAbsentAndNegativeValues() {
        let o = options("--lr -0.5 --offset=-3")
        #expect(o.int("epochs", default: 10, help: "passes") == 10)
        #expect(o.double("lr", default: 0.1, help: "step size") == -0.5)
        #expect(o.int("offset", default: 0, help: "shift") == -3)
        #expect(o.optionalString("data-dir", help: "MNIST folder") == nil)
        #expect(o.flag("quick", help: "small run") == false)
        #expect(!o.wasGiven("epochs") && o.wasGiven("lr"))
        #expect(o.parse() == .run)
    }

    @Test func kebabCaseOnCommandLineSnakeCaseInConfig() {
        let o = options("--data-dir /tmp/mnist --hidden-size=32 --quick")
        #expect(o.optionalString("data-dir", help: "folder") == "/tmp/mnist")
        #expect(o.int("hidden_size", default: 8, help: "units") == 32)   // declared in snake_case
        #expect(o.flag("quick", help: "small run"))
        _ = o.int("epochs", default: 3, help: "passes")
        #expect(o.parse() == .run)
        #expect(o.config["data_dir"] == "/tmp/mnist")
        #expect(o.config["hidden_size"] == 32)
        #expect(o.config["quick"] == true)
        #expect(o.config["epochs"] == 3)
        #expect(o.float("lr", default: 0.1, help: "step") == 0.1)
        #expect(o.config["lr"] == 0.1)   // the Float's shortest decimal, not 0.10000000149011612
        #expect(o.wasGiven("hidden-size") && o.wasGiven("hidden_size"))
        o.record("epochs", 1)
        #expect(o.config["epochs"] == 1)
    }

    @Test func unknownFlagSuggestsTheClosestName() {
        let o = options("--epoch 5")
        _ = o.int("epochs", default: 10, help: "passes")
        _ = o.float("lr", default: 0.1, help: "step size")
        #expect(o.parse() == .error("unknown flag --epoch (did you mean --epochs?)"))

        let far = options("--zzzzzz")
        _ = far.int("epochs", default: 10, help: "passes")
        #expect(far.parse() == .error("unknown flag --zzzzzz"))
    }

    @Test func unparsableValuesNameTheFlagAndTheText() {
        let o = options("--epochs ten")
        #expect(o.int("epochs", default: 10, help: "passes") == 10)   // the default, not a crash
        #expect(o.parse() == .error("--epochs: 'ten' is not an integer"))

        let lr = options("--lr=fast")
        _ = lr.float("lr", default: 0.1, help: "step size")
        #expect(lr.parse() == .error("--lr: 'fast' is not a number"))

        let layers = options("--layers 784,x,10")
        _ = layers.intList("layers", default: [10], help: "sizes")
        guard case .error(let message) = layers.parse() else { Issue.record("expected an error"); return }
        #expect(message.hasPrefix("--layers: '784,x,10' is not a comma-separated list of integers"))

        let nan = options("--lr nan")
        _ = nan.float("lr", default: 0.1, help: "step size")
        #expect(nan.parse() == .error("--lr: 'nan' is not a number"))
    }

    @Test func valueOutsideTheChoices() {
        let o = options("--optimizer adamx")
        _ = o.choice("optimizer", default: "sgd", choices: ["sgd", "momentum", "adam"], help: "update rule")
        #expect(o.parse() == .error("--optimizer: 'adamx' is not one of sgd, momentum, adam (did you mean adam?)"))
    }

    @Test func missingValue() {
        let atEnd = options("--epochs")
        _ = atEnd.int("epochs", default: 10, help: "passes")
        #expect(atEnd.parse() == .error("--epochs needs a value (int)"))

        let beforeFlag = options("--epochs --quick")
        _ = beforeFlag.flag("quick", help: "small run")
        _ = beforeFlag.int("epochs", default: 10, help: "passes")
        #expect(beforeFlag.parse() == .error("--epochs needs a value (int)"))
    }

    @Test func strayArgumentsAndBadSwitchValues() {
        let stray = options("5")
        _ = stray.int("epochs", default: 10, help: "passes")
        #expect(stray.parse() == .error("unexpected argument '5' (flags start with --, see --help)"))

        let off = options("--quick=false")
        #expect(off.flag("quick", help: "small run") == false)
        #expect(off.parse() == .run)

        let bad = options("--quick=maybe")
        _ = bad.flag("quick", help: "small run")
        #expect(bad.parse() == .error("--quick is an on/off flag; 'maybe' is not true or false"))
    }

    @Test func rangeChecks() {
        let o = options("--threads 0")
        #expect(o.int("threads", default: 2, range: 1...256, help: "threads") == 2)
        #expect(o.parse() == .error("--threads: 0 is out of range (1 to 256)"))

        let dropout = options("--dropout=1.5")
        #expect(dropout.float("dropout", default: 0.1, range: 0...0.9, help: "drop rate") == 0.1)
        #expect(dropout.parse() == .error("--dropout: 1.5 is out of range (0.0 to 0.9)"))

        let fraction = options("--validation 0.2")
        #expect(fraction.double("validation", default: 0.1, range: 0...0.5, help: "held out") == 0.2)
        #expect(fraction.parse() == .run)
    }

    @Test func programChecksReportThroughFinish() {
        let o = options("--lr 0")
        let lr = o.float("lr", default: 0.1, help: "step size")
        if lr <= 0 { o.reportError("--lr must be positive, got \(lr)") }
        #expect(o.parse() == .error("--lr must be positive, got 0.0"))
    }

    @Test func helpListsEveryFlagWithTypeDefaultAndChoices() {
        let o = options("--help --bogus")   // --help wins over other problems
        _ = commonFlags(o, week: "Week99Test")
        _ = o.int("epochs", default: 10, help: "passes over the data")
        _ = o.choice("optimizer", default: "adam", choices: ["sgd", "adam"], help: "update rule")
        _ = o.intList("layers", default: [64, 32, 10], help: "layer sizes")
        _ = o.optionalString("data-dir", help: "where MNIST lives")
        #expect(o.parse() == .help)
        let usage = o.usage()
        #expect(usage.hasPrefix("Week99Test: a test program"))
        for line in ["--epochs <int>", "passes over the data (default: 10)",
                     "--optimizer <choice>", "(one of: sgd, adam; default: adam)",
                     "--layers <ints>", "(default: 64,32,10)", "--data-dir <string>", "(default: none)",
                     "--seed <int>", "(default: 1337)", "--quick", "--out <string>", "(default: runs/Week99/)",
                     "--threads <int>", "--help"] {
            #expect(usage.contains(line), "usage lacks \(line)")
        }
        #expect(o.config.keys.sorted() == ["data_dir", "epochs", "layers", "optimizer", "out", "quick", "seed", "threads"])
    }

    @Test func commonFlagsReadSeedQuickOut() {
        let o = options("--seed 7 --quick --out=runs/try1")
        let common = commonFlags(o, week: "Week03MLP")
        #expect(common.seed == 7 && common.quick && common.out == "runs/try1")
        #expect(common.threads == Threads.count)
        #expect(o.parse() == .run)

        let negative = options("--seed -1")
        _ = commonFlags(negative, week: "Week03MLP")
        #expect(negative.parse() == .error("--seed: '-1' is not a non-negative integer"))
    }

    @Test func editDistanceAndSuggestions() {
        #expect(editDistance("epoch", "epochs") == 1)
        #expect(editDistance("kitten", "sitting") == 3)
        #expect(editDistance("", "abc") == 3)
        #expect(closestName(to: "lr", among: ["epochs", "lr-decay", "seed"]) == nil)
        #expect(closestName(to: "hiden", among: ["hidden", "heads"]) == "hidden")
        #expect(closestName(to: "epoch", among: ["max-epochs", "steps"]) == "max-epochs")
        #expect(closestName(to: "learning-rate-warmup", among: ["learning-rate", "seed"]) == "learning-rate")
        #expect(kebabCase("dataDir") == "data-dir" && kebabCase("data_dir") == "data-dir")
    }
}
