// A scatter of named points: each point is drawn as a dot with its name beside it (a 2-D
// projection of word vectors, week 7). Axes, grid and legend as the other charts.
import SharedKernels

extension Plot {
    /// Points with a text label each; `group` picks the colour and the legend entry
    /// (groupNames[group]). Labels are drawn 5 px right of their dot.
    public static func labelledPoints(title: String, xLabel: String, yLabel: String,
                                      points: [(x: Double, y: Double, label: String, group: Int)],
                                      groupNames: [String]) -> String {
        let usable = points.filter { $0.x.isFinite && $0.y.isFinite }
        let legend = groupNames.enumerated().map { LegendEntry(name: $0.element, color: color($0.offset), marker: .dot) }
        var chart = ChartLayout(title: title, xLabel: xLabel, yLabel: yLabel,
                                xRange: dataRange(usable.map(\.x)), yRange: dataRange(usable.map(\.y)),
                                logY: false, legend: legend, margin: 0.08)
        chart.drawBackground()
        chart.canvas.add(##"<g clip-path="url(#wb-plot-area)" font-size="10">"##)
        for point in usable {
            let x = chart.px(point.x), y = chart.py(point.y), fill = color(point.group)
            chart.canvas.add(##"<circle cx="\##(number(x))" cy="\##(number(y))" r="2.5" fill="\##(fill)"/>"##)
            chart.canvas.add(##"<text x="\##(number(x + 5))" y="\##(number(y + 3))" fill="#222">\##(escapeXML(point.label))</text>"##)
        }
        chart.canvas.add("</g>")
        if usable.isEmpty { chart.drawNoDataNote() }
        chart.drawAxesAndLegend()
        return chart.canvas.rendered()
    }
}
