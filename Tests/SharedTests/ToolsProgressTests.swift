// The progress line: step/total, percent, loss, throughput, elapsed and remaining time.
import Testing
@testable import Shared
@testable import SharedKernels
@testable import SharedTools
@testable import SharedData
@testable import SharedNN

@Suite struct ToolsProgressTests {
    @Test func lineHasEveryPart() {
        let progress = Progress(total: 1000, label: "train")
        let now = monotonicSeconds()
        let line = progress.describe(step: 120, loss: 0.43121, extra: "lr 0.001", now: now + 1)
        #expect(line.hasPrefix("train  120/1000  12% | loss 0.4312"))
        #expect(line.contains("0:01 elapsed, 0:07 left"))
        #expect(line.hasSuffix(" | lr 0.001"))
        let done = progress.describe(step: 1000, loss: nil, extra: "", now: now + 61)
        #expect(done == "train 1000/1000 100% | 1:01 elapsed")
    }

    @Test func formats() {
        #expect(formatDuration(7) == "0:07" && formatDuration(185) == "3:05" && formatDuration(3723) == "1:02:03")
        #expect(formatDuration(.nan) == "?")
        #expect(formatCount(950) == "950" && formatCount(12_300) == "12.3k" && formatCount(4_500_000) == "4.5M")
        #expect(formatFixed(2.0 / 3.0, digits: 3) == "0.667" && formatFixed(.infinity, digits: 2) == "inf")
    }
}
