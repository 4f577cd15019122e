// SVG plots every week writes next to metrics.json: loss curves, decision regions, confusion
// matrices and attention maps, image grids. Plain SVG text (open it in any browser), no
// dependencies. Colours: the Tableau 10 palette (designed to stay distinguishable for common
// colour-vision deficiencies) for classes and series, viridis for heatmaps.
// Nice tick values: Heckbert, "Nice numbers for graph labels", Graphics Gems (1990).
import SharedKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A running mean over the last `window` values, so that noisy per-step losses become a
/// readable curve: y[i] = mean of values[max(0, i − window + 1) ... i] (fewer at the start).
public func runningMean(_ values: [Double], window: Int) -> [Double] {
    precondition(window >= 1, "runningMean: window must be at least 1, got \(window)")
    var sum = 0.0
    return values.indices.map { i in
        sum += values[i]
        if i >= window { sum -= values[i - window] }
        return sum / Double(min(i + 1, window))
    }
}

/// One curve of a line chart: y against x. Non-finite values are skipped (the line breaks there).
public struct Series {
    public var name: String
    public var x: [Double]
    public var y: [Double]
    public var dashed: Bool
    /// Index into `Plot.palette`; nil: the series' own position in the chart. Give two series
    /// the same index to pair them (one model's train and validation curves, say).
    public var colorIndex: Int?

    /// x and y have the same length; `name` appears in the legend (empty: not listed).
    public init(_ name: String, x: [Double], y: [Double], dashed: Bool = false, colorIndex: Int? = nil) {
        self.name = name
        self.x = x
        self.y = y
        self.dashed = dashed
        self.colorIndex = colorIndex
    }

    /// y against 1, 2, 3, ... (epochs).
    public init(_ name: String, y: [Double], dashed: Bool = false, colorIndex: Int? = nil) {
        self.init(name, x: (0..<y.count).map { Double($0 + 1) }, y: y, dashed: dashed, colorIndex: colorIndex)
    }
}

public enum Plot {
    /// Tableau 10: one strong colour per class or series (index modulo 10).
    public static let palette = ["#4E79A7", "#F28E2B", "#E15759", "#76B7B2", "#59A14F",
                                 "#EDC948", "#B07AA1", "#FF9DA7", "#9C755F", "#BAB0AC"]

    // MARK: Line chart

    /// A line chart of several series (loss curves). logY: logarithmic y axis (values <= 0 are
    /// skipped). Series with at most 30 points get a marker on each point.
    public static func lines(title: String, xLabel: String, yLabel: String, series: [Series],
                             logY: Bool = false) -> String {
        // Keep only points we can draw.
        let usable = series.map { s in
            zip(s.x, s.y).map { (x: $0, y: $1) }.filter { $0.x.isFinite && $0.y.isFinite && (!logY || $0.y > 0) }
        }
        let xs = usable.flatMap { $0.map(\.x) }, ys = usable.flatMap { $0.map(\.y) }
        var legend: [LegendEntry] = []
        for (index, s) in series.enumerated() where !s.name.isEmpty {
            legend.append(LegendEntry(name: s.name, color: color(s.colorIndex ?? index), marker: .line(dashed: s.dashed)))
        }
        let isWhole = { (v: Double) in v == v.rounded() }
        var chart = ChartLayout(title: title, xLabel: xLabel, yLabel: yLabel,
                                xRange: dataRange(xs), yRange: dataRange(ys), logY: logY, legend: legend,
                                xIntegers: xs.allSatisfy(isWhole), yIntegers: !logY && ys.allSatisfy(isWhole))
        chart.drawBackground()
        chart.canvas.add(##"<g clip-path="url(#wb-plot-area)" fill="none" stroke-width="2" stroke-linejoin="round" stroke-linecap="round">"##)
        for (index, s) in series.enumerated() {
            let stroke = color(s.colorIndex ?? index)
            // Break the path wherever a value was skipped, so gaps show as gaps.
            var runs: [[(Double, Double)]] = [[]]
            for (x, y) in zip(s.x, s.y) {
                guard x.isFinite && y.isFinite && (!logY || y > 0) else {
                    if !runs[runs.count - 1].isEmpty { runs.append([]) }
                    continue
                }
                runs[runs.count - 1].append((chart.px(x), chart.py(y)))
            }
            let drawn = runs.flatMap { $0 }
            var path = ""
            for run in runs {
                for (i, point) in thinnedLine(run).enumerated() {
                    path += (i == 0 ? "M" : "L") + number(point.0) + " " + number(point.1)
                }
            }
            let dash = s.dashed ? ##" stroke-dasharray="7 4""## : ""
            if !path.isEmpty {
                chart.canvas.add(##"<path d="\##(path)" stroke="\##(stroke)"\##(dash)/>"##)
            }
            if drawn.count <= 30 {
                for (x, y) in drawn {
                    chart.canvas.add(##"<circle cx="\##(number(x))" cy="\##(number(y))" r="3" fill="\##(stroke)" stroke="none"/>"##)
                }
            }
        }
        chart.canvas.add("</g>")
        if xs.isEmpty { chart.drawNoDataNote() }
        chart.drawAxesAndLegend()
        return chart.canvas.rendered()
    }

    /// A long run of line points (pixel coordinates), reduced to at most four per half-pixel
    /// column: the first, lowest, highest and last. The drawing looks the same; a 50,000-step loss
    /// curve stays a small file.
    static func thinnedLine(_ points: [(Double, Double)]) -> [(Double, Double)] {
        guard points.count > 2000 else { return points }
        var kept: [(Double, Double)] = []
        var start = 0
        while start < points.count {
            let column = (points[start].0 * 2).rounded(.down)
            var end = start, lowest = start, highest = start
            while end < points.count && (points[end].0 * 2).rounded(.down) == column {
                if points[end].1 < points[lowest].1 { lowest = end }
                if points[end].1 > points[highest].1 { highest = end }
                end += 1
            }
            for i in Set([start, lowest, highest, end - 1]).sorted() { kept.append(points[i]) }
            start = end
        }
        return kept
    }

    // MARK: Scatter over decision regions

    /// Points coloured by class over a shaded decision-region background (classify(x, y) -> class,
    /// evaluated on a grid of about 120 x 80 cells), optional straight/curved lines drawn on top
    /// (e.g. a perceptron's boundary). points.label indexes `classNames` and the palette.
    public static func scatter(title: String, xLabel: String, yLabel: String,
                               points: [(x: Double, y: Double, label: Int)], classNames: [String],
                               region: ((Double, Double) -> Int)? = nil, lines: [Series] = []) -> String {
        let finitePoints = points.filter { $0.x.isFinite && $0.y.isFinite }
        var legend: [LegendEntry] = []
        let classCount = max(classNames.count, (finitePoints.map(\.label).max() ?? -1) + 1)
        for label in 0..<classCount {
            let name = label < classNames.count ? classNames[label] : "class \(label)"
            legend.append(LegendEntry(name: name, color: color(label), marker: .dot))
        }
        for (index, line) in lines.enumerated() where !line.name.isEmpty {
            legend.append(LegendEntry(name: line.name, color: boundaryColor(index), marker: .line(dashed: line.dashed)))
        }
        var chart = ChartLayout(title: title, xLabel: xLabel, yLabel: yLabel,
                                xRange: dataRange(finitePoints.map(\.x)),
                                yRange: dataRange(finitePoints.map(\.y)), logY: false, legend: legend, margin: 0.08)
        chart.drawBackground()

        // 1. Decision regions: classify the centre of every grid cell; equal neighbours in a row
        //    are merged into one rectangle to keep the file small.
        if let region {
            let columns = 120
            let rows = max(1, Int((Double(columns) * chart.plotHeight / chart.plotWidth).rounded()))
            let cellWidth = chart.plotWidth / Double(columns), cellHeight = chart.plotHeight / Double(rows)
            chart.canvas.add(##"<g shape-rendering="crispEdges" stroke="none">"##)
            for row in 0..<rows {
                let top = chart.plotTop + Double(row) * cellHeight
                let y = chart.yValue(atPixel: top + cellHeight / 2)
                var runStart = 0
                var runLabel = region(chart.xValue(atPixel: chart.plotLeft + cellWidth / 2), y)
                for column in 1...columns {
                    let label = column < columns
                        ? region(chart.xValue(atPixel: chart.plotLeft + (Double(column) + 0.5) * cellWidth), y) : Int.min
                    if label != runLabel {
                        let left = chart.plotLeft + Double(runStart) * cellWidth
                        // Overlap each rectangle by a fraction of a pixel so no hairline seams show.
                        chart.canvas.add(##"<rect x="\##(number(left))" y="\##(number(top))" width="\##(number(Double(column - runStart) * cellWidth + 0.3))" height="\##(number(cellHeight + 0.3))" fill="\##(lightColor(runLabel))"/>"##)
                        runStart = column
                        runLabel = label
                    }
                }
            }
            chart.canvas.add("</g>")
        }

        // 2. Lines on top of the regions (boundaries), clipped to the plot area.
        chart.canvas.add(##"<g clip-path="url(#wb-plot-area)" fill="none" stroke-width="2.5">"##)
        for (index, line) in lines.enumerated() {
            var path = ""
            var penDown = false
            for (x, y) in zip(line.x, line.y) {
                guard x.isFinite && y.isFinite else { penDown = false; continue }
                path += (penDown ? "L" : "M") + number(chart.px(x)) + " " + number(chart.py(y))
                penDown = true
            }
            let dash = line.dashed ? ##" stroke-dasharray="7 4""## : ""
            if !path.isEmpty { chart.canvas.add(##"<path d="\##(path)" stroke="\##(boundaryColor(index))"\##(dash)/>"##) }
        }
        chart.canvas.add("</g>")

        // 3. The points, in strong colours with a thin dark outline (readable on any region).
        let radius = finitePoints.count > 2000 ? 2.0 : finitePoints.count > 500 ? 2.8 : 3.8
        chart.canvas.add(##"<g stroke="#222" stroke-width="0.7">"##)
        for point in finitePoints {
            chart.canvas.add(##"<circle cx="\##(number(chart.px(point.x)))" cy="\##(number(chart.py(point.y)))" r="\##(number(radius))" fill="\##(color(point.label))"/>"##)
        }
        chart.canvas.add("</g>")
        if finitePoints.isEmpty { chart.drawNoDataNote() }
        chart.drawAxesAndLegend()
        return chart.canvas.rendered()
    }

    // MARK: Heatmap

    /// A rows x columns grid of coloured cells (viridis: dark = low, yellow = high) with a colour
    /// scale: confusion matrices (rows = true class, columns = predicted) and attention maps
    /// (rows = query position, columns = key position). values: (rows, columns), row-major.
    /// showValues writes each value in its cell when the cells are big enough to hold it.
    public static func heatmap(title: String, values: [Double], rows: Int, columns: Int,
                               rowLabels: [String], columnLabels: [String],
                               xLabel: String, yLabel: String, showValues: Bool = true) -> String {
        let rows = max(rows, 0), columns = max(columns, 0)
        let value = { (r: Int, c: Int) -> Double in
            let index = r * columns + c
            return index < values.count ? values[index] : .nan
        }
        let finite = values.prefix(rows * columns).filter(\.isFinite)
        var low = finite.min() ?? 0, high = finite.max() ?? 1
        if high - low < 1e-12 { high = low + 1 }
        if low >= 0 && low < 0.25 * high { low = 0 }  // counts and probabilities: scale from 0

        // Cell size: as big as fits about 560 x 480 pixels, between 3 and 48 pixels.
        let cell = Double(max(3, min(48, min(560 / max(columns, 1), 480 / max(rows, 1)))))
        let shownRowLabels = rowLabels.map(visibleLabel), shownColumnLabels = columnLabels.map(visibleLabel)
        let rowLabelWidth = shownRowLabels.map { textWidth($0, size: 11) }.max() ?? 0
        let columnLabelWidth = shownColumnLabels.map { textWidth($0, size: 11) }.max() ?? 0
        // Column labels are written upright when they fit their cell, else turned 45 degrees.
        let rotateColumnLabels = columnLabelWidth + 4 > cell
        let columnLabelHeight = rotateColumnLabels ? columnLabelWidth * 0.72 + 12 : 16
        // Thin out labels that would overlap: every `stride`-th one.
        let rowStride = max(1, Int((13 / cell).rounded(.up)))
        let columnStride = max(1, Int(((rotateColumnLabels ? 13 : columnLabelWidth + 6) / cell).rounded(.up)))

        let gridLeft = 24 + (yLabel.isEmpty ? 0 : 18) + rowLabelWidth + 6
        let gridTop = 44.0
        let gridWidth = cell * Double(columns), gridHeight = cell * Double(rows)
        let scaleLeft = gridLeft + gridWidth + 20
        let scale = makeAxis(low: low, high: high, logarithmic: false, length: max(gridHeight, 60), vertical: true, extend: false)
        let scaleLabelWidth = scale.labels.map { textWidth($0, size: 11) }.max() ?? 0
        var canvas = SVGCanvas(width: max(scaleLeft + 16 + 8 + scaleLabelWidth + 16, textWidth(title, size: 16) + 40),
                               height: gridTop + gridHeight + 8 + columnLabelHeight + (xLabel.isEmpty ? 0 : 26) + 10)
        canvas.addTitle(title)

        // 1. The cells, coloured from 256 levels of the colour map; equal neighbours in a row are
        //    merged into one rectangle (a causal attention map is half one colour).
        let colorOf = { (v: Double) -> String in
            v.isFinite ? viridis(((v - low) / (high - low) * 255).rounded() / 255) : "#CCCCCC"
        }
        canvas.add(##"<g shape-rendering="crispEdges" stroke="none">"##)
        for r in 0..<rows {
            var c = 0
            while c < columns {
                let fill = colorOf(value(r, c))
                var end = c + 1
                while end < columns && colorOf(value(r, end)) == fill { end += 1 }
                canvas.add(##"<rect x="\##(number(gridLeft + Double(c) * cell))" y="\##(number(gridTop + Double(r) * cell))" width="\##(number(Double(end - c) * cell + 0.3))" height="\##(number(cell + 0.3))" fill="\##(fill)"/>"##)
                c = end
            }
        }
        canvas.add("</g>")
        canvas.add(##"<rect x="\##(number(gridLeft))" y="\##(number(gridTop))" width="\##(number(gridWidth))" height="\##(number(gridHeight))" fill="none" stroke="#333" stroke-width="1"/>"##)

        // 2. Values in the cells, if they fit.
        if showValues && rows > 0 && columns > 0 {
            let allWhole = finite.allSatisfy { $0 == $0.rounded() && abs($0) < 1e9 }
            let digits = allWhole ? 0 : (max(abs(low), abs(high)) >= 100 ? 0 : max(abs(low), abs(high)) >= 10 ? 1 : 2)
            let texts = (0..<rows * columns).map { i -> String in
                let v = value(i / columns, i % columns)
                return v.isFinite ? (allWhole ? String(Int(v)) : formatFixed(v, digits: digits)) : ""
            }
            let fontSize = min(12, cell * 0.42)
            let widest = texts.map { textWidth($0, size: fontSize) }.max() ?? 0
            if cell >= 16 && widest <= cell - 3 {
                canvas.add(##"<g font-size="\##(number(fontSize))" text-anchor="middle">"##)
                for r in 0..<rows {
                    for c in 0..<columns where !texts[r * columns + c].isEmpty {
                        let v = value(r, c)
                        let dark = (v - low) / (high - low) < 0.55  // viridis is dark below the middle
                        canvas.add(##"<text x="\##(number(gridLeft + (Double(c) + 0.5) * cell))" y="\##(number(gridTop + (Double(r) + 0.5) * cell + fontSize * 0.35))" fill="\##(dark ? "#FFFFFF" : "#111111")">\##(texts[r * columns + c])</text>"##)
                    }
                }
                canvas.add("</g>")
            }
        }

        // 3. Row labels on the left, column labels below.
        canvas.add(##"<g font-size="11" fill="#222">"##)
        for r in stride(from: 0, to: min(rows, shownRowLabels.count), by: rowStride) {
            canvas.add(##"<text x="\##(number(gridLeft - 5))" y="\##(number(gridTop + (Double(r) + 0.5) * cell + 4))" text-anchor="end">\##(escapeXML(shownRowLabels[r]))</text>"##)
        }
        for c in stride(from: 0, to: min(columns, shownColumnLabels.count), by: columnStride) {
            let x = gridLeft + (Double(c) + 0.5) * cell, y = gridTop + gridHeight + 14
            if rotateColumnLabels {
                canvas.add(##"<text x="\##(number(x + 3))" y="\##(number(y - 4))" text-anchor="end" transform="rotate(-45 \##(number(x + 3)) \##(number(y - 4)))">\##(escapeXML(shownColumnLabels[c]))</text>"##)
            } else {
                canvas.add(##"<text x="\##(number(x))" y="\##(number(y))" text-anchor="middle">\##(escapeXML(shownColumnLabels[c]))</text>"##)
            }
        }
        canvas.add("</g>")

        // 4. Axis labels.
        if !xLabel.isEmpty {
            canvas.add(##"<text x="\##(number(gridLeft + gridWidth / 2))" y="\##(number(gridTop + gridHeight + 8 + columnLabelHeight + 16))" font-size="13" text-anchor="middle" fill="#222">\##(escapeXML(xLabel))</text>"##)
        }
        if !yLabel.isEmpty {
            let cx = 20.0, cy = gridTop + gridHeight / 2
            canvas.add(##"<text x="\##(number(cx))" y="\##(number(cy))" font-size="13" text-anchor="middle" fill="#222" transform="rotate(-90 \##(number(cx)) \##(number(cy)))">\##(escapeXML(yLabel))</text>"##)
        }

        // 5. Colour scale: a vertical gradient from low (bottom) to high (top), with ticks.
        let scaleHeight = max(gridHeight, 60)
        canvas.add(##"<defs><linearGradient id="wb-colour-scale" x1="0" y1="1" x2="0" y2="0">"##)
        for stop in 0...8 {
            let t = Double(stop) / 8
            canvas.add(##"<stop offset="\##(number(t))" stop-color="\##(viridis(t))"/>"##)
        }
        canvas.add("</linearGradient></defs>")
        canvas.add(##"<rect x="\##(number(scaleLeft))" y="\##(number(gridTop))" width="16" height="\##(number(scaleHeight))" fill="url(#wb-colour-scale)" stroke="#333" stroke-width="1"/>"##)
        canvas.add(##"<g font-size="11" fill="#222">"##)
        for (tick, label) in zip(scale.ticks, scale.labels) {
            let y = gridTop + scaleHeight * (1 - scale.fraction(tick))
            canvas.add(##"<line x1="\##(number(scaleLeft + 16))" y1="\##(number(y))" x2="\##(number(scaleLeft + 20))" y2="\##(number(y))" stroke="#333"/>"##)
            canvas.add(##"<text x="\##(number(scaleLeft + 23))" y="\##(number(y + 4))">\##(label)</text>"##)
        }
        canvas.add("</g>")
        return canvas.rendered()
    }

    // MARK: Image grid

    /// Greyscale images in a grid with a caption under each (digits with their predictions,
    /// learned weights). images: each (height, width) row-major with pixels in [0, 1], 0 = black.
    /// Pixels are drawn as rectangles (64 grey levels, equal neighbours merged), so a grid of
    /// 16 MNIST digits stays well under 200 KB.
    public static func imageGrid(title: String, images: [[Float]], width: Int, height: Int,
                                 captions: [String], columns: Int) -> String {
        let width = max(width, 1), height = max(height, 1)
        let columns = max(1, min(columns, max(images.count, 1)))
        let rows = (images.count + columns - 1) / columns
        let pixel = Double(max(1, min(14, 112 / max(width, height))))   // screen pixels per image pixel
        let imageWidth = Double(width) * pixel, imageHeight = Double(height) * pixel
        let hasCaptions = captions.contains { !$0.isEmpty }
        let captionSize = 11.0
        let cellWidth = max(imageWidth, 48) + 14
        let cellHeight = imageHeight + (hasCaptions ? 20 : 0) + 12
        let gridLeft = 12.0, gridTop = 44.0
        var canvas = SVGCanvas(width: max(gridLeft * 2 + cellWidth * Double(columns), textWidth(title, size: 16) + 40),
                               height: gridTop + cellHeight * Double(rows) + 6)
        canvas.addTitle(title)
        for (index, image) in images.enumerated() {
            let left = gridLeft + Double(index % columns) * cellWidth + (cellWidth - imageWidth) / 2
            let top = gridTop + Double(index / columns) * cellHeight
            canvas.add(##"<g transform="translate(\##(number(left)) \##(number(top)))" shape-rendering="crispEdges" stroke="none">"##)
            canvas.add(##"<rect width="\##(number(imageWidth))" height="\##(number(imageHeight))" fill="#000000"/>"##)
            if image.count == width * height {
                for y in 0..<height {
                    // Runs of equal grey level along the row; black runs are the background.
                    var x = 0
                    while x < width {
                        let level = greyLevel(image[y * width + x])
                        var end = x + 1
                        while end < width && greyLevel(image[y * width + end]) == level { end += 1 }
                        if level > 0 {
                            let grey = hexByte(Int((Double(level) * 255 / 63).rounded()))
                            canvas.add(##"<rect x="\##(number(Double(x) * pixel))" y="\##(number(Double(y) * pixel))" width="\##(number(Double(end - x) * pixel + 0.2))" height="\##(number(pixel + 0.2))" fill="#\##(grey)\##(grey)\##(grey)"/>"##)
                        }
                        x = end
                    }
                }
            } else {
                canvas.add(##"<text x="\##(number(imageWidth / 2))" y="\##(number(imageHeight / 2))" font-size="10" fill="#FFFFFF" text-anchor="middle">\##(image.count) values, expected \##(width * height)</text>"##)
            }
            canvas.add("</g>")
            canvas.add(##"<rect x="\##(number(left - 0.5))" y="\##(number(top - 0.5))" width="\##(number(imageWidth + 1))" height="\##(number(imageHeight + 1))" fill="none" stroke="#888" stroke-width="1"/>"##)
            if index < captions.count && !captions[index].isEmpty {
                let caption = truncated(captions[index], toWidth: cellWidth - 4, size: captionSize)
                canvas.add(##"<text x="\##(number(left + imageWidth / 2))" y="\##(number(top + imageHeight + 15))" font-size="\##(number(captionSize))" text-anchor="middle" fill="#222">\##(escapeXML(caption))</text>"##)
            }
        }
        return canvas.rendered()
    }

    /// Values of any range mapped linearly onto [0, 1] for `imageGrid` (learned weights, which
    /// are signed): the smallest becomes black, the largest white. symmetric: map [-m, m] with
    /// m = max |value| instead, so 0 is mid-grey and the sign reads as darker or lighter.
    public static func rescaled(_ values: [Float], symmetric: Bool = false) -> [Float] {
        let finite = values.filter(\.isFinite)
        guard var low = finite.min(), var high = finite.max() else { return values.map { _ in 0 } }
        if symmetric { high = max(abs(low), abs(high)); low = -high }
        let span = high - low
        guard span > 0 else { return values.map { _ in 0.5 } }
        return values.map { $0.isFinite ? ($0 - low) / span : 0 }
    }

    // MARK: Side by side

    /// Several plots side by side in one SVG (e.g. perceptron vs two-layer net on XOR). Each
    /// input is an SVG string from this file; element ids are renamed so they stay unique.
    public static func sideBySide(_ svgs: [String]) -> String {
        var panels: [(width: Double, height: Double, body: String)] = []
        for (index, svg) in svgs.enumerated() {
            guard let open = svg.firstRange(of: "<svg"), let openEnd = svg[open.upperBound...].firstIndex(of: ">"),
                  let close = svg.ranges(of: "</svg>").last else { continue }
            let rootTag = String(svg[open.lowerBound...openEnd])
            let width = attribute("width", in: rootTag) ?? 640, height = attribute("height", in: rootTag) ?? 480
            let body = String(svg[svg.index(after: openEnd)..<close.lowerBound])
                .replacing("wb-", with: "wb\(index)-")
            panels.append((width, height, body))
        }
        let gap = 16.0
        let totalWidth = panels.map(\.width).reduce(0, +) + gap * Double(max(panels.count - 1, 0))
        var canvas = SVGCanvas(width: max(totalWidth, 1), height: max(panels.map(\.height).max() ?? 1, 1))
        var left = 0.0
        for panel in panels {
            canvas.add(##"<svg x="\##(number(left))" y="0" width="\##(number(panel.width))" height="\##(number(panel.height))" viewBox="0 0 \##(number(panel.width)) \##(number(panel.height))">"##)
            canvas.add(panel.body)
            canvas.add("</svg>")
            left += panel.width + gap
        }
        return canvas.rendered()
    }

    // MARK: Colours

    /// The palette colour of class or series `index` (grey for negative labels).
    static func color(_ index: Int) -> String { index < 0 ? "#777777" : palette[index % palette.count] }

    /// The class colour mixed with white (28% colour): a region background points stand out on.
    static func lightColor(_ index: Int) -> String {
        let strong = rgb(color(index))
        let mix = { (c: Int) in Int((0.28 * Double(c) + 0.72 * 255).rounded()) }
        return "#" + hexByte(mix(strong.0)) + hexByte(mix(strong.1)) + hexByte(mix(strong.2))
    }

    /// Lines drawn over decision regions: near-black first, then dark colours.
    static func boundaryColor(_ index: Int) -> String {
        ["#222222", "#7B3294", "#008837", "#A6611A"][index % 4]
    }

    /// Viridis (matplotlib's default colour map: perceptually uniform, colour-blind friendly),
    /// t in [0, 1], linearly interpolated between 9 samples of the map.
    static func viridis(_ t: Double) -> String {
        let samples: [(Double, Double, Double)] = [
            (68, 1, 84), (71, 44, 122), (59, 81, 139), (44, 113, 142), (33, 144, 141),
            (39, 173, 129), (92, 200, 99), (170, 220, 50), (253, 231, 37),
        ]
        let position = min(max(t.isFinite ? t : 0, 0), 1) * Double(samples.count - 1)
        let i = min(Int(position), samples.count - 2), f = position - Double(i)
        let (a, b) = (samples[i], samples[i + 1])
        let mix = { (x: Double, y: Double) in Int((x + (y - x) * f).rounded()) }
        return "#" + hexByte(mix(a.0, b.0)) + hexByte(mix(a.1, b.1)) + hexByte(mix(a.2, b.2))
    }

    static func rgb(_ hex: String) -> (Int, Int, Int) {
        let digits = hex.dropFirst()
        let value = Int(digits, radix: 16) ?? 0
        return ((value >> 16) & 255, (value >> 8) & 255, value & 255)
    }

    static func hexByte(_ value: Int) -> String {
        let digits = Array("0123456789ABCDEF")
        let v = min(max(value, 0), 255)
        return String(digits[v >> 4]) + String(digits[v & 15])
    }

    /// A pixel in [0, 1] quantized to 64 grey levels (0 = black). NaN counts as black.
    static func greyLevel(_ pixel: Float) -> Int {
        guard pixel.isFinite else { return 0 }
        return Int((min(max(pixel, 0), 1) * 63).rounded())
    }

    /// A number attribute in `tag` (`width="640"`), nil when absent.
    static func attribute(_ name: String, in tag: String) -> Double? {
        guard let start = tag.firstRange(of: " \(name)=\"") else { return nil }
        let rest = tag[start.upperBound...]
        guard let end = rest.firstIndex(of: "\"") else { return nil }
        return Double(rest[..<end].filter { $0.isNumber || $0 == "." || $0 == "-" })
    }
}

// MARK: - Text

/// Text with the five XML special characters escaped, and characters XML forbids (control
/// characters) removed: any label, even raw text from a corpus, makes a valid SVG.
public func escapeXML(_ text: String) -> String {
    var out = ""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&apos;"
        case "\n", "\r", "\t": out += " "
        case _ where scalar.value < 0x20 || scalar.value == 0xFFFE || scalar.value == 0xFFFF: out += "\u{FFFD}"
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out
}

/// Whitespace labels (a character-level model's " " or "\n") shown as visible symbols.
func visibleLabel(_ label: String) -> String {
    switch label {
    case " ": return "␣"
    case "\n": return "↵"
    case "\t": return "⇥"
    case "": return ""
    default: return label
    }
}

/// Estimated width in pixels of `text` in a sans-serif font of `size` pixels (0.6 em per
/// character is a safe upper bound for digits and most letters).
func textWidth(_ text: String, size: Double) -> Double { Double(text.count) * size * 0.6 }

/// `text`, cut with an ellipsis to fit `width` pixels.
func truncated(_ text: String, toWidth width: Double, size: Double) -> String {
    let fits = max(1, Int(width / (size * 0.6)))
    return text.count <= fits ? text : String(text.prefix(max(1, fits - 1))) + "…"
}

/// A coordinate with at most 2 decimals ("12", "3.5", "-0.25"): short files, no "nan".
func number(_ x: Double) -> String {
    guard x.isFinite else { return "0" }
    let hundredths = Int((x * 100).rounded())
    let sign = hundredths < 0 ? "-" : ""
    let magnitude = abs(hundredths)
    let whole = magnitude / 100, fraction = magnitude % 100
    if fraction == 0 { return hundredths == 0 ? "0" : sign + String(whole) }
    if fraction % 10 == 0 { return sign + String(whole) + "." + String(fraction / 10) }
    return sign + String(whole) + "." + (fraction < 10 ? "0" : "") + String(fraction)
}

// MARK: - Canvas

/// An SVG document being written: a list of element strings inside the root element.
struct SVGCanvas {
    var width: Double
    var height: Double
    private var elements: [String] = []

    init(width: Double, height: Double) {
        self.width = width.rounded(.up)
        self.height = height.rounded(.up)
    }

    mutating func add(_ element: String) { elements.append(element) }

    mutating func addTitle(_ title: String) {
        add(##"<text x="\##(number(width / 2))" y="26" font-size="16" font-weight="bold" text-anchor="middle" fill="#111">\##(escapeXML(title))</text>"##)
    }

    func rendered() -> String {
        var svg = ##"<svg xmlns="http://www.w3.org/2000/svg" width="\##(number(width))" height="\##(number(height))" viewBox="0 0 \##(number(width)) \##(number(height))" font-family="Helvetica, Arial, sans-serif">"##
        svg += "\n" + ##"<rect width="100%" height="100%" fill="#FFFFFF"/>"## + "\n"
        svg += elements.joined(separator: "\n")
        return svg + "\n</svg>\n"
    }
}

// MARK: - Axes

/// One axis: its range, tick values and their labels.
struct Axis {
    var low: Double
    var high: Double
    var logarithmic: Bool
    var ticks: [Double]
    var labels: [String]

    /// Where `value` falls along the axis, 0 at `low` and 1 at `high`.
    func fraction(_ value: Double) -> Double {
        if logarithmic { return (log10(value) - log10(low)) / (log10(high) - log10(low)) }
        return (value - low) / (high - low)
    }

    /// Inverse of `fraction`.
    func value(atFraction f: Double) -> Double {
        if logarithmic { return pow(10, log10(low) + f * (log10(high) - log10(low))) }
        return low + f * (high - low)
    }
}

/// The smallest and largest of `values`, nil when empty.
func dataRange(_ values: [Double]) -> (Double, Double)? {
    guard let low = values.min(), let high = values.max() else { return nil }
    return (low, high)
}

/// A "nice" step near `rawStep`: 1, 2 or 5 times a power of ten (Heckbert).
func niceStep(_ rawStep: Double) -> Double {
    let exponent = (log10(rawStep)).rounded(.down)
    let power = pow(10, exponent)
    let fraction = rawStep / power
    let nice: Double = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10
    return nice * power
}

/// Tick label for `value` on an axis whose ticks are `step` apart: just enough decimals to tell
/// neighbours apart ("0.25" for step 0.05), exponent form for very large or small numbers.
func formatTick(_ value: Double, step: Double) -> String {
    if abs(value) < step * 1e-6 { return "0" }
    let magnitude = max(abs(value), step)
    if magnitude >= 1e12 || step < 1e-4 {
        // 2.5e-05 style: decimals of the mantissa from the step relative to the value.
        let exponent = Int(log10(abs(value)).rounded(.down))
        let mantissa = value / pow(10, Double(exponent))
        let digits = max(0, min(3, exponent - Int(log10(step).rounded(.down))))
        var text = formatFixed(mantissa, digits: digits)
        if text.contains(".") { while text.hasSuffix("0") { text.removeLast() }; if text.hasSuffix(".") { text.removeLast() } }
        return text + "e" + String(exponent)
    }
    let digits = max(0, -Int(log10(step).rounded(.down)))
    return formatFixed(value, digits: digits)
}

/// Ticks for the range [low, high] along an axis `length` pixels long. Tries fewer ticks until
/// the labels do not overlap. extend: widen the range to the enclosing nice values (otherwise
/// the range is kept and only the ticks inside it are shown). integers: the data are whole
/// numbers (epochs, counts), so ticks are never closer than 1 apart.
func makeAxis(low: Double, high: Double, logarithmic: Bool, length: Double, vertical: Bool,
              extend: Bool = true, integers: Bool = false) -> Axis {
    var (low, high) = (low, high)
    if logarithmic {
        if !(low > 0) { low = 1 }
        if !(high > low) { (low, high) = (low / 2, low * 2) }
        if high / low > 1e30 { low = high / 1e30 }
        // Ticks at 1, 10, 100... inside the range; also 2 and 5 times them when there are few
        // decades, and every digit when the range is narrower than a decade.
        let decades = log10(high) - log10(low)
        let multiples: [Double] = decades < 1 ? [1, 2, 3, 4, 5, 6, 7, 8, 9] : decades <= 2.5 ? [1, 2, 5] : [1]
        let spacing = vertical ? 22.0 : 50.0
        let decadeStride = max(1, Int((decades * spacing / length).rounded(.up)))
        var ticks: [Double] = []
        var exponent = Int(log10(low).rounded(.down))
        while Double(exponent) <= log10(high).rounded(.up) {
            for m in multiples {
                let v = m * pow(10, Double(exponent))
                if v >= low * (1 - 1e-9) && v <= high * (1 + 1e-9) { ticks.append(v) }
            }
            exponent += decadeStride
        }
        // Drop ticks whose labels would touch a neighbour, keeping the powers of ten first.
        let pixelsPerDecade = length / decades
        let minimumGap = vertical ? 18.0 : 44.0
        let isPowerOfTen = { (v: Double) in abs(log10(v) - log10(v).rounded()) < 1e-9 }
        var kept = ticks.filter(isPowerOfTen)
        for v in ticks where !isPowerOfTen(v) {
            if kept.allSatisfy({ abs(log10($0) - log10(v)) * pixelsPerDecade >= minimumGap }) { kept.append(v) }
        }
        ticks = kept.sorted()
        if ticks.count < 2 {
            // Narrower than one step of 1-9: plain evenly spaced ticks, placed on the log scale.
            ticks = makeAxis(low: low, high: high, logarithmic: false, length: length, vertical: vertical, extend: false).ticks
        }
        let labels = ticks.map { v -> String in
            let exponent = Int(log10(v).rounded(.down))
            if exponent >= -3 && exponent <= 5 {
                var text = formatFixed(v, digits: max(0, -exponent + 1))
                if text.contains(".") { while text.hasSuffix("0") { text.removeLast() }; if text.hasSuffix(".") { text.removeLast() } }
                return text
            }
            let mantissa = v / pow(10, Double(exponent))
            let mantissaText = abs(mantissa - mantissa.rounded()) < 1e-6 ? String(Int(mantissa.rounded())) : formatFixed(mantissa, digits: 1)
            return mantissaText + "e" + String(exponent)
        }
        return Axis(low: low, high: high, logarithmic: true, ticks: ticks, labels: labels)
    }
    if !(high - low > 1e-12 * max(abs(low), abs(high), 1e-300)) {
        let half = low == 0 ? 1 : abs(low) * 0.1
        (low, high) = (low - half, high + half)
    }
    var target = vertical ? 8 : 9
    while true {
        var step = niceStep((high - low) / Double(max(target - 1, 1)))
        if integers { step = max(step, 1) }
        let first = extend ? (low / step).rounded(.down) : (low / step).rounded(.up)
        let last = extend ? (high / step).rounded(.up) : (high / step).rounded(.down)
        let ticks = stride(from: first, through: last, by: 1).map { $0 * step }
        // Large values get one SI suffix for the whole axis: 250k, 500k, 750k, 1M.
        let largest = ticks.map(abs).max() ?? 0
        let (unit, suffix) = largest >= 1e9 ? (1e9, "G") : largest >= 1e6 ? (1e6, "M") : largest >= 1e5 ? (1e3, "k") : (1, "")
        let labels = ticks.map { tick in
            let text = formatTick(tick / unit, step: step / unit)
            return text == "0" ? text : text + suffix
        }
        let axisLow = extend ? first * step : low, axisHigh = extend ? last * step : high
        // Labels need about 20 px each vertically, or their width plus a gap horizontally.
        let needed = vertical ? 20 * Double(ticks.count)
                              : ((labels.map { textWidth($0, size: 11) }.max() ?? 0) + 12) * Double(ticks.count) * 1.3
        if needed <= length || target <= 2 {
            return Axis(low: axisLow, high: axisHigh, logarithmic: false, ticks: ticks, labels: labels)
        }
        target -= 1
    }
}

// MARK: - Chart layout (line and scatter charts)

/// A legend row: a coloured marker and a name.
struct LegendEntry {
    enum Marker { case line(dashed: Bool), dot }
    let name: String
    let color: String
    let marker: Marker
}

/// The frame of an x-y chart: title on top, y axis label and ticks on the left, x axis below,
/// the legend to the right of the plot area (so it never covers data).
struct ChartLayout {
    var canvas: SVGCanvas
    let title: String, xLabel: String, yLabel: String
    let xAxis: Axis, yAxis: Axis
    let legend: [LegendEntry]
    let plotLeft: Double, plotTop: Double, plotWidth: Double, plotHeight: Double

    init(title: String, xLabel: String, yLabel: String, xRange: (Double, Double)?, yRange: (Double, Double)?,
         logY: Bool, legend: [LegendEntry], xIntegers: Bool = false, yIntegers: Bool = false, margin: Double = 0.04) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.legend = legend
        plotWidth = 520
        plotHeight = 340
        // Like matplotlib: the data range plus a margin (4% of it) on each side, so no point or
        // line sits on the frame, with nice ticks inside it.
        let (xLow, xHigh) = Self.padded(xRange ?? (0, 1), logarithmic: false, margin: margin)
        let (yLow, yHigh) = Self.padded(yRange ?? (logY ? (1, 10) : (0, 1)), logarithmic: logY, margin: margin)
        xAxis = makeAxis(low: xLow, high: xHigh, logarithmic: false, length: plotWidth, vertical: false,
                         extend: false, integers: xIntegers)
        yAxis = makeAxis(low: yLow, high: yHigh, logarithmic: logY, length: plotHeight, vertical: true,
                         extend: false, integers: yIntegers)
        let yTickWidth = yAxis.labels.map { textWidth($0, size: 11) }.max() ?? 0
        plotLeft = 14 + (yLabel.isEmpty ? 0 : 22) + yTickWidth + 8
        plotTop = 46
        let legendWidth = legend.isEmpty ? 0 : 40 + (legend.map { textWidth($0.name, size: 12) }.max() ?? 0)
        let legendHeight = 18 * Double(legend.count) + 12
        // The last x tick label is centred on the right edge: leave room for half of it.
        let lastXLabel = textWidth(xAxis.labels.last ?? "", size: 11) / 2
        let width = plotLeft + plotWidth + max(lastXLabel + 8, legend.isEmpty ? 16 : legendWidth + 24)
        let height = max(plotTop + plotHeight + 28 + (xLabel.isEmpty ? 0 : 24) + 10, plotTop + legendHeight + 10)
        canvas = SVGCanvas(width: max(width, textWidth(title, size: 16) + 40), height: height)
    }

    /// [low, high] widened by `margin` times its span on each side (in log space for a log
    /// axis). A single value gets a span around it.
    static func padded(_ range: (Double, Double), logarithmic: Bool, margin: Double) -> (Double, Double) {
        var (low, high) = range
        if logarithmic {
            if high <= low { (low, high) = (low / 2, low * 2) }
            let factor = pow(high / low, margin)
            return (low / factor, high * factor)
        }
        if high - low <= 1e-12 * max(abs(low), abs(high), 1e-300) {
            let half = low == 0 ? 1 : abs(low) * 0.1
            return (low - half, high + half)
        }
        let extra = margin * (high - low)
        return (low - extra, high + extra)
    }

    /// Pixel column of data value x, pixel row of data value y.
    func px(_ x: Double) -> Double { plotLeft + plotWidth * xAxis.fraction(x) }
    func py(_ y: Double) -> Double { plotTop + plotHeight * (1 - yAxis.fraction(y)) }
    func xValue(atPixel column: Double) -> Double { xAxis.value(atFraction: (column - plotLeft) / plotWidth) }
    func yValue(atPixel row: Double) -> Double { yAxis.value(atFraction: 1 - (row - plotTop) / plotHeight) }

    /// Title, the clip path of the plot area, and the grid lines (drawn under the data).
    mutating func drawBackground() {
        canvas.addTitle(title)
        canvas.add(##"<defs><clipPath id="wb-plot-area"><rect x="\##(number(plotLeft))" y="\##(number(plotTop))" width="\##(number(plotWidth))" height="\##(number(plotHeight))"/></clipPath></defs>"##)
        canvas.add(##"<g stroke="#E6E6E6" stroke-width="1">"##)
        for tick in xAxis.ticks {
            canvas.add(##"<line x1="\##(number(px(tick)))" y1="\##(number(plotTop))" x2="\##(number(px(tick)))" y2="\##(number(plotTop + plotHeight))"/>"##)
        }
        for tick in yAxis.ticks {
            canvas.add(##"<line x1="\##(number(plotLeft))" y1="\##(number(py(tick)))" x2="\##(number(plotLeft + plotWidth))" y2="\##(number(py(tick)))"/>"##)
        }
        canvas.add("</g>")
    }

    mutating func drawNoDataNote() {
        canvas.add(##"<text x="\##(number(plotLeft + plotWidth / 2))" y="\##(number(plotTop + plotHeight / 2))" font-size="14" fill="#777" text-anchor="middle">no data</text>"##)
    }

    /// Frame, ticks, tick labels, axis labels and legend (drawn over the data).
    mutating func drawAxesAndLegend() {
        canvas.add(##"<rect x="\##(number(plotLeft))" y="\##(number(plotTop))" width="\##(number(plotWidth))" height="\##(number(plotHeight))" fill="none" stroke="#333" stroke-width="1"/>"##)
        let bottom = plotTop + plotHeight
        canvas.add(##"<g font-size="11" fill="#222">"##)
        for (tick, label) in zip(xAxis.ticks, xAxis.labels) {
            let x = px(tick)
            canvas.add(##"<line x1="\##(number(x))" y1="\##(number(bottom))" x2="\##(number(x))" y2="\##(number(bottom + 5))" stroke="#333"/>"##)
            canvas.add(##"<text x="\##(number(x))" y="\##(number(bottom + 18))" text-anchor="middle">\##(label)</text>"##)
        }
        for (tick, label) in zip(yAxis.ticks, yAxis.labels) {
            let y = py(tick)
            canvas.add(##"<line x1="\##(number(plotLeft - 5))" y1="\##(number(y))" x2="\##(number(plotLeft))" y2="\##(number(y))" stroke="#333"/>"##)
            canvas.add(##"<text x="\##(number(plotLeft - 8))" y="\##(number(y + 4))" text-anchor="end">\##(label)</text>"##)
        }
        canvas.add("</g>")
        if !xLabel.isEmpty {
            canvas.add(##"<text x="\##(number(plotLeft + plotWidth / 2))" y="\##(number(bottom + 42))" font-size="13" text-anchor="middle" fill="#222">\##(escapeXML(xLabel))</text>"##)
        }
        if !yLabel.isEmpty {
            let cx = 20.0, cy = plotTop + plotHeight / 2
            canvas.add(##"<text x="\##(number(cx))" y="\##(number(cy))" font-size="13" text-anchor="middle" fill="#222" transform="rotate(-90 \##(number(cx)) \##(number(cy)))">\##(escapeXML(yLabel))</text>"##)
        }
        guard !legend.isEmpty else { return }
        let left = plotLeft + plotWidth + 18
        canvas.add(##"<g font-size="12" fill="#222">"##)
        for (index, entry) in legend.enumerated() {
            let y = plotTop + 10 + 18 * Double(index)
            switch entry.marker {
            case .line(let dashed):
                let dash = dashed ? ##" stroke-dasharray="7 4""## : ""
                canvas.add(##"<line x1="\##(number(left))" y1="\##(number(y))" x2="\##(number(left + 24))" y2="\##(number(y))" stroke="\##(entry.color)" stroke-width="2.5"\##(dash)/>"##)
            case .dot:
                canvas.add(##"<circle cx="\##(number(left + 12))" cy="\##(number(y))" r="4.5" fill="\##(entry.color)" stroke="#222" stroke-width="0.7"/>"##)
            }
            canvas.add(##"<text x="\##(number(left + 32))" y="\##(number(y + 4))">\##(escapeXML(entry.name))</text>"##)
        }
        canvas.add("</g>")
    }
}
