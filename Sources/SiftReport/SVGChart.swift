import Foundation

/// Small self-contained SVG charts: lines with confidence bands, and histograms against a null.
package enum SVGChart {
    package struct Point: Sendable {
        package var x: Double, y: Double, low: Double, high: Double
        package init(x: Double, y: Double, low: Double, high: Double) {
            self.x = x; self.y = y; self.low = low; self.high = high
        }
    }

    package struct Series: Sendable {
        package var label: String
        package var points: [Point]
        /// The experiment the series belongs to (its place in the report's list), so that a reader's choice
        /// of experiments shows or hides it; nil for series that are not an experiment's.
        package var experiment: Int?
        package init(label: String, points: [Point], experiment: Int? = nil) {
            self.label = label
            self.points = points
            self.experiment = experiment
        }
    }

    /// A categorical palette that stays readable in colour-blind vision.
    package static let palette = [
        "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442",
    ]

    static let width = 460.0, height = 280.0, left = 58.0, right = 12.0, top = 26.0, bottom = 42.0

    /// Mean lines with 95 % bands against a log or linear x axis. A reference line is drawn at `reference`.
    /// Series take the palette's colours from `firstColor` on, so that charts showing a subset of the
    /// same series can keep each one's colour. A log x axis is labelled in percent (densities) unless
    /// `xPercent` is false (counts).
    package static func lines(
        title: String, xLabel: String, yLabel: String, series: [Series], logX: Bool,
        reference: Double? = nil, firstColor: Int = 0, xPercent: Bool? = nil
    ) -> String {
        let all = series.flatMap(\.points).filter { $0.x > 0 || !logX }
        guard !all.isEmpty else { return "<p class=\"empty\">\(HTML.escape(title)): no values</p>" }
        let fx: (Double) -> Double = logX ? { log10($0) } : { $0 }
        var xMin = all.map { fx($0.x) }.min()!, xMax = all.map { fx($0.x) }.max()!
        var yMin = all.map(\.low).min()!, yMax = all.map(\.high).max()!
        if let reference { yMin = min(yMin, reference); yMax = max(yMax, reference) }
        if xMax - xMin < 1e-9 { xMin -= 0.5; xMax += 0.5 }
        if yMax - yMin < 1e-9 { yMin -= 0.5; yMax += 0.5 }
        let pad = (yMax - yMin) * 0.06
        yMin -= pad; yMax += pad
        let plotW = width - left - right, plotH = height - top - bottom
        let totalHeight = height + 14 * Double(series.count)
        func px(_ x: Double) -> Double { left + (fx(x) - xMin) / (xMax - xMin) * plotW }
        func py(_ y: Double) -> Double { top + (1 - (y - yMin) / (yMax - yMin)) * plotH }

        var svg =
            "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(Int(width)) \(Int(totalHeight))\" width=\"\(Int(width))\" height=\"\(Int(totalHeight))\" class=\"chart\" role=\"img\">"
        svg += "<title>\(HTML.escape(title))</title>"
        svg += "<text x=\"\(left)\" y=\"16\" class=\"title\">\(HTML.escape(title))</text>"
        svg += "<rect x=\"\(left)\" y=\"\(top)\" width=\"\(plotW)\" height=\"\(plotH)\" class=\"frame\"/>"
        // Ticks: decades (and halves) on a log axis, five steps otherwise.
        var xTicks: [Double] = []
        if logX {
            for decade in stride(from: floor(xMin), through: ceil(xMax), by: 1.0) {
                for t in [pow(10.0, decade), 3 * pow(10.0, decade)] where fx(t) >= xMin - 1e-9 && fx(t) <= xMax + 1e-9 {
                    xTicks.append(t)
                }
            }
        } else {
            xTicks = (0...4).map { xMin + Double($0) / 4 * (xMax - xMin) }
        }
        for t in xTicks {
            let x = px(t)
            svg +=
                "<line x1=\"\(f(x))\" y1=\"\(f(top + plotH))\" x2=\"\(f(x))\" y2=\"\(f(top + plotH + 4))\" class=\"axis\"/>"
            svg +=
                "<text x=\"\(f(x))\" y=\"\(f(top + plotH + 16))\" class=\"tick\" text-anchor=\"middle\">\(tickText(t, percent: xPercent ?? logX))</text>"
        }
        // Enough decimals that neighbouring ticks differ, however narrow the range.
        let yStep = (yMax - yMin) / 4
        let decimals = max(0, min(6, 1 - Int(log10(yStep).rounded(.down))))
        for i in 0...4 {
            let t = yMin + Double(i) * yStep, y = py(t)
            svg +=
                "<line x1=\"\(f(left - 4))\" y1=\"\(f(y))\" x2=\"\(f(left + plotW))\" y2=\"\(f(y))\" class=\"gridline\"/>"
            svg +=
                "<text x=\"\(f(left - 6))\" y=\"\(f(y + 4))\" class=\"tick\" text-anchor=\"end\">\(String(format: "%.\(decimals)f", t))</text>"
        }
        if let reference {
            svg +=
                "<line x1=\"\(left)\" y1=\"\(f(py(reference)))\" x2=\"\(f(left + plotW))\" y2=\"\(f(py(reference)))\" class=\"reference\"/>"
        }
        svg +=
            "<text x=\"\(f(left + plotW / 2))\" y=\"\(f(height - 6))\" class=\"label\" text-anchor=\"middle\">\(HTML.escape(xLabel))</text>"
        svg +=
            "<text transform=\"translate(14 \(f(top + plotH / 2))) rotate(-90)\" class=\"label\" text-anchor=\"middle\">\(HTML.escape(yLabel))</text>"
        for (s, item) in series.enumerated() {
            let color = palette[(s + firstColor) % palette.count]
            let points = item.points.filter { $0.x > 0 || !logX }.sorted { $0.x < $1.x }
            guard !points.isEmpty else { continue }
            svg += item.experiment.map { "<g data-experiment=\"\($0)\">" } ?? "<g>"
            let band =
                points.map { "\(f(px($0.x))),\(f(py($0.high)))" }
                + points.reversed().map { "\(f(px($0.x))),\(f(py($0.low)))" }
            svg +=
                "<polygon points=\"\(band.joined(separator: " "))\" fill=\"\(color)\" fill-opacity=\"0.18\" stroke=\"none\"/>"
            svg +=
                "<polyline points=\"\(points.map { "\(f(px($0.x))),\(f(py($0.y)))" }.joined(separator: " "))\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"1.8\"/>"
            for p in points { svg += "<circle cx=\"\(f(px(p.x)))\" cy=\"\(f(py(p.y)))\" r=\"2.2\" fill=\"\(color)\"/>" }
            let legendY = height + 8 + Double(s) * 14
            svg += "<rect x=\"\(left)\" y=\"\(f(legendY - 8))\" width=\"14\" height=\"8\" fill=\"\(color)\"/>"
            svg +=
                "<text x=\"\(f(left + 20))\" y=\"\(f(legendY))\" class=\"legend\" fill=\"\(color)\">\(HTML.escape(item.label))</text></g>"
        }
        return svg + "</svg>"
    }

    /// Observed counts as bars, the null's expectation as a line.
    package static func histogram(title: String, counts: [Int], expected: [Double]) -> String {
        let n = max(counts.count, expected.count)
        guard n > 0 else { return "" }
        let yMax = max(Double(counts.max() ?? 0), expected.max() ?? 0, 1) * 1.05
        let w = 300.0, h = 150.0, l = 34.0, b = 24.0, t = 18.0
        let plotW = w - l - 6, plotH = h - t - b, barW = plotW / Double(n)
        var svg =
            "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(Int(w)) \(Int(h))\" class=\"histogram\" role=\"img\">"
        svg += "<text x=\"\(l)\" y=\"12\" class=\"title\">\(HTML.escape(title))</text>"
        for (k, c) in counts.enumerated() where c > 0 {
            let bh = Double(c) / yMax * plotH
            svg +=
                "<rect x=\"\(f(l + Double(k) * barW))\" y=\"\(f(t + plotH - bh))\" width=\"\(f(max(barW, 0.6)))\" height=\"\(f(bh))\" fill=\"#0072B2\"/>"
        }
        let line = expected.enumerated().map {
            "\(f(l + (Double($0) + 0.5) * barW)),\(f(t + plotH - $1 / yMax * plotH))"
        }
        svg +=
            "<polyline points=\"\(line.joined(separator: " "))\" fill=\"none\" stroke=\"#D55E00\" stroke-width=\"1.5\"/>"
        svg += "<line x1=\"\(l)\" y1=\"\(f(t + plotH))\" x2=\"\(f(l + plotW))\" y2=\"\(f(t + plotH))\" class=\"axis\"/>"
        svg += "<text x=\"\(l)\" y=\"\(f(h - 6))\" class=\"tick\">0</text>"
        svg +=
            "<text x=\"\(f(l + plotW))\" y=\"\(f(h - 6))\" class=\"tick\" text-anchor=\"end\">in-degree \(n - 1)</text>"
        svg += "<text x=\"\(f(l - 4))\" y=\"\(f(t + 8))\" class=\"tick\" text-anchor=\"end\">\(Int(yMax))</text>"
        return svg + "</svg>"
    }

    static func f(_ v: Double) -> String { String(format: "%.1f", v) }

    static func tickText(_ v: Double, percent: Bool) -> String {
        if percent {
            return v >= 0.01 ? String(format: "%g%%", (v * 100 * 10).rounded() / 10) : String(format: "%.2g%%", v * 100)
        }
        return abs(v) >= 100 ? String(format: "%.0f", v) : String(format: "%.3g", v)
    }
}

enum HTML {
    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
