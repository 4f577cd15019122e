// Every SVG kind is well-formed XML (Foundation's XMLParser), escapes its text, skips values it
// cannot draw, and carries the pieces a reader needs: title, axis labels, ticks, legend.
import Testing
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
@testable import Shared
@testable import SharedKernels
@testable import SharedTools
@testable import SharedData
@testable import SharedNN

/// Parses an SVG and counts its elements by name; `error` is set when the XML is malformed.
final class SVGInspector: NSObject, XMLParserDelegate {
    var elementCounts: [String: Int] = [:]
    var texts: [String] = []
    var ids: [String] = []
    var rootAttributes: [String: String] = [:]
    var error: String?
    private var currentText = ""

    init(_ svg: String) {
        super.init()
        let parser = XMLParser(data: Data(svg.utf8))
        parser.delegate = self
        if !parser.parse() { error = parser.parserError.map { "\($0)" } ?? "parse failed" }
    }

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                attributes: [String: String]) {
        if elementCounts.isEmpty { rootAttributes = attributes }
        elementCounts[name, default: 0] += 1
        if let id = attributes["id"] { ids.append(id) }
        currentText = ""
    }
    func parser(_ parser: XMLParser, foundCharacters string: String) { currentText += string }
    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        if name == "text" { texts.append(currentText) }
        currentText = ""
    }
}

@Suite struct PlotTests {
    static func lossCurves() -> String {
        var validation = (1...50).map { 2.0 / Double($0) }
        validation[10] = .nan
        validation[11] = .infinity
        return Plot.lines(title: "Loss <train & \"val\">", xLabel: "epoch", yLabel: "loss",
                          series: [Series("train", x: (1...50).map(Double.init), y: (1...50).map { 1.5 / Double($0) }),
                                   Series("validation", y: validation, dashed: true)])
    }

    static func decisionRegions() -> String {
        let points: [(x: Double, y: Double, label: Int)] = [(0, 0, 0), (1, 1, 0), (0, 1, 1), (1, 0, 1), (0.5, .nan, 1)]
        return Plot.scatter(title: "XOR", xLabel: "x1", yLabel: "x2", points: points, classNames: ["false", "true"],
                            region: { x, y in (x > 0.5) != (y > 0.5) ? 1 : 0 },
                            lines: [Series("boundary", x: [-1, 2], y: [0.5, 0.5], dashed: true)])
    }

    @Test func lineChartIsValidAndComplete() {
        let svg = Self.lossCurves()
        let inspector = SVGInspector(svg)
        #expect(inspector.error == nil)
        #expect(inspector.rootAttributes["xmlns"] == "http://www.w3.org/2000/svg")
        #expect(inspector.texts.contains("Loss <train & \"val\">"))   // escaped in the file, intact once parsed
        #expect(svg.contains("Loss &lt;train &amp; &quot;val&quot;&gt;"))
        for label in ["epoch", "loss", "train", "validation", "0", "10", "20", "50"] {
            #expect(inspector.texts.contains(label), "missing text \(label)")
        }
        #expect(inspector.elementCounts["path"] == 2)
        #expect(!svg.contains("nan") && !svg.contains("inf"))
        // The validation curve breaks at the skipped values: two "M" (move) commands in its path.
        let dashedPath = svg.split(separator: "\n").first { $0.contains("<path") && $0.contains("dasharray") }!
        #expect(dashedPath.filter { $0 == "M" }.count == 2)
    }

    @Test func longSeriesAreThinnedButKeepTheirExtremes() {
        let steps = 50_000
        var loss = (0..<steps).map { 3 * exp(-Double($0) / 8000) + 0.05 * sin(Double($0)) }
        loss[31_234] = 9   // one spike must survive the thinning
        let svg = Plot.lines(title: "loss per step", xLabel: "step", yLabel: "loss",
                             series: [Series("train", x: (0..<steps).map(Double.init), y: loss)])
        #expect(SVGInspector(svg).error == nil)
        #expect(svg.utf8.count < 100_000)
        let path = svg.split(separator: "\n").first { $0.hasPrefix("<path") }!
        let ys = path.split(whereSeparator: { $0 == "M" || $0 == "L" || $0 == "\"" }).compactMap { pair -> Double? in
            let parts = pair.split(separator: " ")
            return parts.count == 2 ? Double(parts[1]) : nil
        }
        #expect(ys.count > 1000 && ys.count < 5000)
        #expect(ys.min()! < 60)   // the spike (y = 9) is near the top of the plot area (top at 46)
    }

    @Test func logScaleSkipsNonPositiveValues() {
        let svg = Plot.lines(title: "log", xLabel: "step", yLabel: "loss",
                             series: [Series("loss", y: [10, 1, 0.1, 0, -1, 0.01])], logY: true)
        let inspector = SVGInspector(svg)
        #expect(inspector.error == nil)
        for label in ["0.01", "0.1", "1", "10"] { #expect(inspector.texts.contains(label), "missing tick \(label)") }
        #expect(inspector.elementCounts["circle"] == 4)   // one marker per drawable point
    }

    @Test func emptyAndConstantSeriesStillDraw() {
        for series in [[], [Series("flat", y: [3, 3, 3])], [Series("nothing", y: [.nan])]] {
            let inspector = SVGInspector(Plot.lines(title: "t", xLabel: "x", yLabel: "y", series: series))
            #expect(inspector.error == nil)
            #expect((inspector.elementCounts["text"] ?? 0) >= 5)
        }
    }

    @Test func scatterHasRegionsPointsAndLegend() {
        let svg = Self.decisionRegions()
        let inspector = SVGInspector(svg)
        #expect(inspector.error == nil)
        #expect(inspector.elementCounts["circle"] == 4 + 2)            // 4 finite points + 2 legend dots
        #expect((inspector.elementCounts["rect"] ?? 0) > 40)            // region runs
        #expect(svg.contains(Plot.lightColor(0)) && svg.contains(Plot.lightColor(1)))
        for label in ["XOR", "x1", "x2", "false", "true", "boundary"] {
            #expect(inspector.texts.contains(label), "missing text \(label)")
        }
    }

    @Test func heatmapShowsValuesLabelsAndScale() {
        let confusion: [Double] = [50, 2, 1, 3, 45, 0, 0, 4, 48]
        let svg = Plot.heatmap(title: "Confusion", values: confusion, rows: 3, columns: 3,
                               rowLabels: ["cat", "dog", "a<b"], columnLabels: ["cat", "dog", "a<b"],
                               xLabel: "predicted", yLabel: "true")
        let inspector = SVGInspector(svg)
        #expect(inspector.error == nil)
        for value in confusion { #expect(inspector.texts.contains(String(Int(value)))) }
        #expect(inspector.texts.filter { $0 == "a<b" }.count == 2)
        #expect(inspector.texts.contains("predicted") && inspector.texts.contains("true"))
        #expect(inspector.elementCounts["linearGradient"] == 1)

        // An attention map over characters: whitespace labels made visible, no values at 40x40.
        let text = Array("To be, or not to be:\nthat is the question")
        let T = text.count
        var attention = [Double](repeating: 0, count: T * T)   // causal: row t attends to 0...t equally
        for t in 0..<T { for s in 0...t { attention[t * T + s] = 1 / Double(t + 1) } }
        let map = Plot.heatmap(title: "Attention", values: attention, rows: T, columns: T,
                               rowLabels: text.map { String($0) }, columnLabels: text.map { String($0) },
                               xLabel: "key", yLabel: "query", showValues: true)
        let mapInspector = SVGInspector(map)
        #expect(mapInspector.error == nil)
        #expect(mapInspector.texts.contains("␣") && mapInspector.texts.contains("T"))
        #expect(!mapInspector.texts.contains("0.50"))   // cells too small for values
    }

    @Test func imageGridDrawsEveryImageAndCaption() {
        let digit: [Float] = (0..<64).map { Float($0 % 8) / 7 }
        let svg = Plot.imageGrid(title: "Digits", images: [digit, digit, [Float](repeating: 0, count: 64), [0.5]],
                                 width: 8, height: 8, captions: ["3", "pred 5 (true 3)", "blank", "wrong size"], columns: 3)
        let inspector = SVGInspector(svg)
        #expect(inspector.error == nil)
        #expect(inspector.elementCounts["g"] == 4)
        for caption in ["3", "pred 5 (true 3)", "blank", "wrong size", "1 values, expected 64"] {
            #expect(inspector.texts.contains(caption), "missing \(caption)")
        }
        #expect(svg.contains("fill=\"#FFFFFF\"") && svg.contains("fill=\"#000000\""))
        #expect(Plot.greyLevel(.nan) == 0 && Plot.greyLevel(2) == 63 && Plot.greyLevel(-1) == 0)
        #expect(Plot.rescaled([-2, 0, 6]) == [0, 0.25, 1])
        #expect(Plot.rescaled([-2, 0, 1], symmetric: true) == [0, 0.5, 0.75])
        #expect(Plot.rescaled([3, 3]) == [0.5, 0.5] && Plot.rescaled([.nan]) == [0])
    }

    @Test func sideBySideKeepsIdsUnique() {
        let svg = Plot.sideBySide([Self.decisionRegions(), Self.lossCurves()])
        let inspector = SVGInspector(svg)
        #expect(inspector.error == nil)
        #expect(inspector.elementCounts["svg"] == 3)
        #expect(inspector.ids.count == 2 && Set(inspector.ids).count == 2)
        let left = SVGInspector(Self.decisionRegions()).rootAttributes["width"].flatMap(Double.init) ?? 0
        let right = SVGInspector(Self.lossCurves()).rootAttributes["width"].flatMap(Double.init) ?? 0
        #expect(Double(inspector.rootAttributes["width"] ?? "") == left + right + 16)
    }

    @Test func niceTicks() {
        #expect(niceStep(0.23) == 0.5 && niceStep(1.7) == 2 && niceStep(3) == 5 && niceStep(70) == 100)
        let axis = makeAxis(low: 0.03, high: 2.31, logarithmic: false, length: 340, vertical: true)
        #expect(axis.low == 0 && axis.high == 2.5)
        #expect(axis.labels == ["0", "0.5", "1.0", "1.5", "2.0", "2.5"])
        let steps = makeAxis(low: 0, high: 1_500_000, logarithmic: false, length: 520, vertical: false)
        #expect(steps.labels.last == "1.6M" && steps.labels.first == "0")
        // Labels never overlap: their estimated widths fit in the axis length.
        let long = makeAxis(low: 123_456.7, high: 123_457.9, logarithmic: false, length: 200, vertical: false)
        let widths = long.labels.map { textWidth($0, size: 11) + 12 }.reduce(0, +)
        #expect(widths <= 200 && Set(long.labels).count == long.labels.count)
        // Whole-number data (epochs) never get fractional ticks; a range inside one decade still
        // gets several ticks on a log axis.
        let epochs = makeAxis(low: 0.96, high: 2.04, logarithmic: false, length: 520, vertical: false, extend: false, integers: true)
        #expect(epochs.labels == ["1", "2"])
        let narrow = makeAxis(low: 0.23, high: 0.32, logarithmic: true, length: 340, vertical: true)
        #expect(narrow.ticks.count >= 3 && narrow.ticks.allSatisfy { $0 >= 0.23 && $0 <= 0.32 })
        let decades = makeAxis(low: 0.009, high: 2.5, logarithmic: true, length: 340, vertical: true)
        #expect(decades.labels.contains("0.01") && decades.labels.contains("0.1") && decades.labels.contains("1"))
        let digits = makeAxis(low: 0.5, high: 4.5, logarithmic: true, length: 340, vertical: true)
        let pixels = digits.ticks.map { log10($0) / (log10(4.5) - log10(0.5)) * 340 }
        #expect(digits.labels.contains("1") && zip(pixels, pixels.dropFirst()).allSatisfy { $1 - $0 >= 18 })
        #expect(escapeXML("a\u{01}b\n<") == "a\u{FFFD}b &lt;")
        #expect(number(3.14159) == "3.14" && number(-0.001) == "0" && number(.nan) == "0" && number(-2.5) == "-2.5")
    }
}
