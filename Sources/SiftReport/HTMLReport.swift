import Foundation
import SiftArtifacts
import SiftFiles

/// How far a sweep had come when its report was written.
package struct Completeness: Sendable, Equatable {
    package var asOf: Date
    package var done: Int
    package var running: Int
    package var waiting: Int
    /// Control chains whose level 0 is their IMP experiment's, reused rather than trained again.
    package var reusedLevels: Int

    // Memberwise, and package-wide: Swift synthesizes only an internal one.
    package init(asOf: Date, done: Int, running: Int, waiting: Int, reusedLevels: Int = 0) {
        self.asOf = asOf
        self.done = done
        self.running = running
        self.waiting = waiting
        self.reusedLevels = reusedLevels
    }

    /// Levels are still to come: the figures cover the finished ones only.
    package var isPartial: Bool { running + waiting > 0 }
}

/// Writes DIR/report/: summary.csv, summary.json and a self-contained index.html.
package struct ReportWriter {
    package var index: RunIndex
    package var summary: Summary
    /// Levels whose unit mosaics are drawn; nil chooses the middle and the last level of each chain.
    package var mosaicLevels: [Int]?
    /// The sweep's state, when the folder holds one: a sweep still running gets a partial page.
    package var completeness: Completeness?

    package init(index: RunIndex, mosaicLevels: [Int]? = nil, completeness: Completeness? = nil) {
        self.index = index
        summary = Summary(index)
        self.mosaicLevels = mosaicLevels
        self.completeness = completeness
    }

    /// The report's own folder inside the runs' folder (which the run index skips).
    package static let folderName = "report"

    /// Writes into `folder` (default: the runs' own report/ folder); returns the folder.
    @discardableResult
    package func write(to folder: String? = nil) throws -> String {
        let folder = folder ?? (index.root as NSString).appendingPathComponent(Self.folderName)
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try FileBytes.writeAtomically(Array(Summary.csv(index).utf8), to: "\(folder)/summary.csv")
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try FileBytes.writeAtomically([UInt8](try encoder.encode(summary)), to: "\(folder)/summary.json")
        try FileBytes.writeAtomically(Array(html().utf8), to: "\(folder)/index.html")
        return folder
    }

    // MARK: - Page

    func html() -> String {
        var body = "<h1>Sift report</h1>"
        let chains = Set(index.levels.map { "\($0.experiment)/\($0.seed)" }).count
        body +=
            "<p class=\"meta\">\(HTML.escape(index.root)) · \(summary.experiments.count) experiment(s), \(chains) chain(s), \(index.levels.count) level(s)</p>"
        if let completeness, completeness.isPartial {
            let time = ISO8601DateFormatter().string(from: completeness.asOf)
            body +=
                "<div class=\"partial\"><b>Partial report.</b> The sweep was still running at \(time): "
                + "\(completeness.done) level(s) done, \(completeness.running) running, \(completeness.waiting) waiting. "
                + "The figures cover the finished levels only; the coordinator rewrites this page as results land.</div>"
        }
        if let completeness, completeness.reusedLevels > 0 {
            body +=
                "<p class=\"note\">Level 0 of \(completeness.reusedLevels) control chain(s) is their IMP experiment's level 0, "
                + "reused rather than trained again: a control shares its IMP experiment's data, seed and random streams, so "
                + "its dense network is the same one, byte for byte.</p>"
        }
        let diverged = index.divergedLevels
        if !diverged.isEmpty {
            body +=
                "<div class=\"warn\"><b>\(diverged.count) chain(s) diverged</b> (non-finite loss or weights) and are left out of every mean, interval and comparison below:<ul>"
            body +=
                diverged.map { record in
                    let t = record.metrics.training
                    let loss = t.lastFiniteLoss.map { String(format: "%.4g", $0) } ?? "none"
                    return
                        "<li>\(HTML.escape(index.label(record.experiment))) seed \(record.seed): level \(record.level), step \(t.steps), last finite loss \(loss)</li>"
                }.joined() + "</ul></div>"
        }
        if !index.problems.isEmpty {
            body += "<div class=\"warn\"><b>\(index.problems.count) level folder(s) could not be read:</b><ul>"
            body += index.problems.map { "<li>\(HTML.escape($0))</li>" }.joined() + "</ul></div>"
        }
        body += experimentTable()
        body +=
            "<h2>Accuracy and locality against density</h2><p>Mean over seeds with its 95 % interval (Student t), against the density of layer 1 on a log axis.</p>"
        body += experimentPicker()
        body += "<div class=\"grid\">"
        body += accuracyChart()
        body += chart(.pairDistanceRatioDegree, title: "Pair distance / degree-preserving null", reference: 1)
        body += chart(.pairDistanceRatioUniform, title: "Pair distance / uniform null", reference: 1)
        body += chart(.gyrationRatioDegree, title: "Radius of gyration / degree-preserving null", reference: 1)
        body += chart(.pairDistanceZDegree, title: "Pair distance z against the degree null", reference: 0)
        body += chart(.meanPairDistance, title: "Mean pair distance (pixels)", reference: nil)
        body += chart(.participationRatioMean, title: "Participation ratio (1/IPR)", reference: nil)
        body += chart(.connectedFraction, title: "Connected first-layer units", reference: nil)
        body += "</div>"
        body += comparisonTable()
        for experiment in summary.experiments { body += experimentSection(experiment) }
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>Sift report</title>
            <style>
            body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:24px;color:#1b1b1b;max-width:1500px}
            h1{margin:0 0 4px}h2{margin-top:32px;border-bottom:1px solid #ddd;padding-bottom:4px}.meta{color:#555}
            table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ddd;padding:3px 8px;text-align:right}th{background:#f4f4f4}
            td.l,th.l{text-align:left}.sig{background:#fff3c4;font-weight:600}.grid{display:flex;flex-wrap:wrap;gap:12px}
            svg.chart{background:#fff}svg.histogram{width:300px;height:150px}
            .title{font-size:13px;font-weight:600}.tick{font-size:10px;fill:#444}.label{font-size:11px;fill:#333}.legend{font-size:11px;font-weight:600}
            .frame{fill:none;stroke:#bbb}.axis{stroke:#888}.gridline{stroke:#eee}.reference{stroke:#999;stroke-dasharray:4 3}
            figure{margin:0;text-align:center;font-size:11px}figure img{image-rendering:pixelated;border:1px solid #ccc}
            .strip{display:flex;flex-wrap:wrap;gap:6px;align-items:flex-end}.warn{background:#fde8e8;padding:8px;border:1px solid #e99}
            .empty{color:#888}.partial{background:#e8f0fd;padding:8px;border:1px solid #9ab}
            .pick{border:1px solid #ddd;margin:8px 0}.pick label{white-space:nowrap;margin-right:8px}
            </style></head><body>
            \(body)
            </body></html>
            """
    }

    /// How many experiments the charts show at first; a reader ticks others in.
    static let experimentsShownAtFirst = 8

    /// Ticks that choose which experiments the charts above show: with fifty experiments, fifty lines on a chart
    /// hide each other. The page stays self-contained (an inline script, no request).
    func experimentPicker() -> String {
        let experiments = summary.experiments
        guard experiments.count > 1 else { return "" }
        let shown = Self.experimentsShownAtFirst
        var html = "<fieldset class=\"pick\"><legend>Experiments on the charts"
        html += experiments.count > shown ? " (the first \(shown) of \(experiments.count) at first)" : ""
        html +=
            " <button type=\"button\" data-all=\"1\">all</button> <button type=\"button\" data-all=\"0\">none</button></legend>"
        for (index, e) in experiments.enumerated() {
            html +=
                "<label><input type=\"checkbox\" data-experiment=\"\(index)\"\(index < shown ? " checked" : "")> \(HTML.escape(e.label))</label> "
        }
        return html + """
            </fieldset><script>
            (function(){var boxes=document.querySelectorAll('.pick input[data-experiment]');
            function show(){var on={};boxes.forEach(function(b){on[b.dataset.experiment]=b.checked});
            document.querySelectorAll('svg.chart g[data-experiment]').forEach(function(g){g.style.display=on[g.dataset.experiment]?'':'none'})}
            boxes.forEach(function(b){b.addEventListener('change',show)});
            document.querySelectorAll('.pick button').forEach(function(button){button.addEventListener('click',function(){
            boxes.forEach(function(b){b.checked=button.dataset.all==='1'});show()})});show()})();
            </script>
            """
    }

    func experimentTable() -> String {
        var rows =
            "<table><tr><th class=\"l\">experiment</th><th class=\"l\">hash</th><th class=\"l\">control</th><th>seeds</th><th>levels</th><th>lowest layer-1 density</th><th>accuracy there</th></tr>"
        for e in summary.experiments {
            guard let last = e.levels.last else {
                rows +=
                    "<tr><td class=\"l\">\(HTML.escape(e.label))</td><td class=\"l\"><code>\(e.experiment)</code></td><td class=\"l\">\(e.control)</td>"
                rows += "<td colspan=\"4\" class=\"l\">every chain diverged</td></tr>"
                continue
            }
            let density = last.columns["density_layer_0"].map { percent($0.mean) } ?? "–"
            rows +=
                "<tr><td class=\"l\">\(HTML.escape(e.label))</td><td class=\"l\"><code>\(e.experiment)</code></td><td class=\"l\">\(e.control)</td>"
            rows +=
                "<td>\(Set(e.levels.flatMap(\.seeds)).count)</td><td>\(e.levels.count)</td><td>\(density)</td><td>\(cell(last[.testAccuracy]))</td></tr>"
        }
        return rows + "</table>"
    }

    /// Test accuracy; with batch norm, each experiment twice: read with the protocol's running averages, and
    /// with the statistics measured again under the level's weights, whose gap shows an evaluation artefact.
    func accuracyChart() -> String {
        let recalibrated = summary.experiments.filter { e in
            e.levels.contains { $0[.testAccuracyRecalibrated] != nil }
        }
        guard !recalibrated.isEmpty else { return chart(.testAccuracy, title: "Test accuracy", reference: nil) }
        let series = summary.experiments.enumerated().flatMap { index, e in
            [
                SVGChart.Series(
                    label: "\(e.label) (running averages)", points: densityPoints(e, .testAccuracy), experiment: index
                )
            ]
                + (recalibrated.contains { $0.experiment == e.experiment }
                    ? [
                        SVGChart.Series(
                            label: "\(e.label) (recalibrated)", points: densityPoints(e, .testAccuracyRecalibrated),
                            experiment: index)
                    ] : [])
        }
        return SVGChart.lines(
            title: "Test accuracy: batch norm's running averages and recalibrated statistics",
            xLabel: "density of layer 1", yLabel: MetricColumn.testAccuracy.name, series: series, logX: true,
            reference: nil)
    }

    func chart(_ column: MetricColumn, title: String, reference: Double?) -> String {
        let series = summary.experiments.enumerated().map { index, e in
            SVGChart.Series(label: e.label, points: densityPoints(e, column), experiment: index)
        }
        return SVGChart.lines(
            title: title, xLabel: "density of layer 1", yLabel: column.name, series: series, logX: true,
            reference: reference
        )
    }

    func comparisonTable() -> String {
        guard summary.experiments.count >= 2 else { return "" }
        var html =
            "<h2>Comparisons at matched levels</h2><p>Difference of means (first − second) with its 95 % interval and Welch's p; p &lt; 0.05 is highlighted. Empty where a side has a single seed.</p>"
        let byPair = Dictionary(grouping: summary.comparisons) { "\($0.a)|\($0.b)" }
        let order = Dictionary(uniqueKeysWithValues: summary.experiments.enumerated().map { ($1.experiment, $0) })
        // Pairs in the order of their experiments in the summary (the key breaks ties, so the page's bytes are stable).
        let pairs = byPair.sorted { x, y in
            guard let first = x.value.first, let second = y.value.first else { return x.key < y.key }
            let (i, j) = ((order[first.a] ?? 0, order[first.b] ?? 0), (order[second.a] ?? 0, order[second.b] ?? 0))
            return i != j ? i < j : x.key < y.key
        }
        for (_, rows) in pairs {
            guard let first = rows.first else { continue }
            let a = first.a, b = first.b
            html += "<h3>\(HTML.escape(index.label(a))) − \(HTML.escape(index.label(b)))</h3><table><tr><th>level</th>"
            html += Summary.comparedColumns.map { "<th>\($0)</th>" }.joined() + "</tr>"
            for level in Set(rows.map(\.level)).sorted() {
                html += "<tr><td>\(level)</td>"
                for column in Summary.comparedColumns {
                    guard let c = rows.first(where: { $0.level == level && $0.column == column.name }) else {
                        html += "<td></td>"; continue
                    }
                    if let w = c.welch {
                        html +=
                            "<td\(w.p < 0.05 ? " class=\"sig\"" : "")>\(IntervalText.format(w.difference, plusOrMinus: w.ci95)) <small>p=\(String(format: "%.3g", w.p))</small></td>"
                    } else {
                        html += "<td>\(IntervalText.plain(c.meanA - c.meanB))</td>"
                    }
                }
                html += "</tr>"
            }
            html += "</table>"
        }
        return html
    }

    /// Maps, histograms and mosaics of the first seed's chain of one experiment (of its chains that did not diverge).
    func experimentSection(_ e: Summary.Experiment) -> String {
        guard let seed = e.levels.flatMap(\.seeds).min() else { return "" }
        let chain = index.levels.filter { $0.experiment == e.experiment && $0.seed == seed }.sorted {
            $0.level < $1.level
        }
        var html = "<h2>\(HTML.escape(e.label)) <small>(seed \(seed))</small></h2>"
        html +=
            "<h3>Same-channel displacement maps S<sup>sc</sup></h3><p>Pairs of a unit's surviving inputs by displacement; centre = zero shift. A bright compact centre means local receptive fields.</p><div class=\"strip\">"
        for record in chain {
            if let map = try? NumpyArray.read("\(record.directory)/sc_map.npy"), map.shape.count == 2 {
                let values = map.floats().map(Double.init), peak = max(values.max() ?? 1, 1e-12)
                let image = PNGImage(
                    width: map.shape[1], height: map.shape[0], values: values.map { $0 / peak },
                    color: ColorScale.sequential)
                html += figure(
                    image, scale: 2,
                    caption: "level \(record.level) · \(percent(record.metrics.training.densityLayers[0]))")
            }
        }
        html += "</div><h3>In-degree histograms against Binomial(fan_in, u)</h3><div class=\"strip\">"
        for record in pick(chain, count: 4) {
            if let histogram = record.metrics.locality?.inDegreeHistogram {
                html += SVGChart.histogram(
                    title: "level \(record.level) · \(percent(record.metrics.training.densityLayers[0]))",
                    counts: histogram.counts, expected: histogram.binomialExpected)
            }
        }
        html +=
            "</div><h3>Pixel out-degree maps</h3><p>How many first-layer units each pixel still feeds.</p><div class=\"strip\">"
        for record in chain {
            if let map = try? NumpyArray.read("\(record.directory)/out_degree.npy"), map.shape.count == 3 {
                html += figure(
                    channelsSideBySide(map.floats().map(Double.init), shape: map.shape, signed: false), scale: 3,
                    caption: "level \(record.level)")
            }
        }
        html += "</div>"
        html += fieldsByLayer(e)
        html += nearConstantInputs(e)
        let levels = mosaicLevels ?? [chain[chain.count / 2].level, chain[chain.count - 1].level]
        for record in chain where levels.contains(record.level) { html += mapsByInDegree(record) + mosaic(record) }
        html += ablation(chain.filter { levels.contains($0.level) })
        return html
    }

    /// One column of an experiment, mean and 95 % interval per level, against the density of layer 1.
    func densityPoints(_ e: Summary.Experiment, _ column: MetricColumn) -> [SVGChart.Point] {
        e.levels.compactMap { level in
            guard let x = level[.density(layer: 0)]?.mean, let y = level[column] else { return nil }
            return SVGChart.Point(x: x, y: y.mean, low: y.low, high: y.high)
        }
    }

    /// With batch norm: each level's two accuracies beside each layer's count of nearly constant batch-norm
    /// inputs, so that a collapse of the protocol's reading shows its reason (means over seeds).
    func nearConstantInputs(_ e: Summary.Experiment) -> String {
        let layers = e.levels.flatMap { $0.columns.keys }.compactMap { column -> Int? in
            MetricColumn.nearConstantInputsLayer(of: column)
        }
        guard let last = layers.max() else { return "" }
        var html =
            "<h3>Batch norm: nearly constant inputs</h3><p>Per layer, the inputs whose running variance is below "
            + "\(LevelTraining.nearConstantVariance) (mean over seeds). With a small epsilon their normalised values explode "
            + "whenever the running mean lags the weights: the accuracy read with the running averages then falls while "
            + "the recalibrated one does not.</p><table><tr><th>level</th><th>layer-1 density</th><th>test accuracy</th>"
            + "<th>recalibrated</th>" + (0...last).map { "<th>layer \($0 + 1)</th>" }.joined() + "</tr>"
        for level in e.levels {
            html +=
                "<tr><td>\(level.level)</td><td>\(cell(level.columns["density_layer_0"]))</td>"
                + "<td>\(cell(level[.testAccuracy]))</td><td>\(cell(level[.testAccuracyRecalibrated]))</td>"
                + (0...last).map { "<td>\(cell(level.columns["near_constant_inputs_layer_\($0)"]))</td>" }.joined()
                + "</tr>"
        }
        return html + "</table>"
    }

    /// Whether receptive fields widen with depth, as in a CNN: each hidden layer's radius of gyration
    /// (layer 1's own, the deeper layers' on their effective masks) and its ratio to the degree null.
    func fieldsByLayer(_ e: Summary.Experiment) -> String {
        let layers = e.levels.flatMap { $0.columns.keys }.compactMap {
            MetricColumn.effectiveLayer(of: $0, figure: .gyrationRadiusMean)
        }
        guard let deepest = layers.max() else { return "" }
        /// One series a layer; layer 1 only where it has a column of its own.
        func series(_ figure: MetricColumn, layer1: Bool = true) -> [SVGChart.Series] {
            ((layer1 ? 0 : 1)...deepest).map { l in
                SVGChart.Series(
                    label: l == 0 ? "layer 1" : "layer \(l + 1) (effective)",
                    points: densityPoints(e, l == 0 ? figure : .effective(figure, layer: l)))
            }
        }
        return
            "<h3>Receptive fields by depth</h3><p>A unit's effective field in layer ℓ is every pixel with a path to it "
            + "(the product of the masks M<sub>1</sub>·…·M<sub>ℓ</sub>). In a CNN, fields widen with depth.</p><div class=\"grid\">"
            + SVGChart.lines(
                title: "Radius of gyration (pixels)", xLabel: "density of layer 1", yLabel: "radius",
                series: series(.gyrationRadiusMean), logX: true)
            + SVGChart.lines(
                title: "Radius of gyration / degree-preserving null", xLabel: "density of layer 1", yLabel: "ratio",
                series: series(.gyrationRatioDegree), logX: true, reference: 1)
            + SVGChart.lines(
                title: "Pair distance / degree-preserving null", xLabel: "density of layer 1", yLabel: "ratio",
                series: series(.pairDistanceRatioDegree), logX: true, reference: 1)
            + SVGChart.lines(
                title: "Fraction of pixels reaching the layer", xLabel: "density of layer 1", yLabel: "fraction",
                series: series(.pixelsReachedFraction, layer1: false), logX: true, firstColor: 1)
            + "</div>"
    }

    /// S^sc of one level split by the units' in-degree (the paper's panels), each bin scaled to its own peak.
    func mapsByInDegree(_ record: LevelRecord) -> String {
        guard let maps = try? NumpyArray.read("\(record.directory)/sc_map_by_degree.npy"),
            let bins = try? NumpyArray.read("\(record.directory)/degree_bins.npy"),
            maps.shape.count == 3, bins.shape == [maps.shape[0], 3]
        else { return "" }
        let values = maps.floats(), edges = bins.integers()
        let height = maps.shape[1], width = maps.shape[2], size = height * width
        var panels = ""
        for b in 0..<maps.shape[0] {
            let map = values[(b * size)..<((b + 1) * size)].map(Double.init)
            let peak = max(map.max() ?? 1, 1e-12)
            let image = PNGImage(
                width: width, height: height, values: map.map { $0 / peak }, color: ColorScale.sequential)
            panels += figure(
                image, scale: 2,
                caption:
                    "k \(edges[3 * b])–\(edges[3 * b + 1]) · \(edges[3 * b + 2]) unit\(edges[3 * b + 2] == 1 ? "" : "s")"
            )
        }
        return
            "<h3>S<sup>sc</sup> by in-degree at level \(record.level) (\(percent(record.metrics.training.densityLayers[0])) of layer 1)</h3>"
            + "<p>The same-channel map summed over the units whose in-degree k falls in each bin of 10, each panel scaled to its own peak.</p>"
            + "<div class=\"strip\">\(panels)</div>"
    }

    /// The paper's ablation curve: test accuracy against the number of first-layer units silenced,
    /// the most connected first, the fewest first, or at random.
    func ablation(_ records: [LevelRecord]) -> String {
        let charts = records.compactMap { record -> String? in
            guard let curves = record.metrics.ablation?.byUnits, !curves.units.isEmpty else { return nil }
            let orders = [
                ("most connected first", curves.most), ("fewest first", curves.fewest), ("random", curves.random),
            ]
            let series = orders.map { label, accuracies in
                SVGChart.Series(
                    label: label,
                    points: zip(curves.units, accuracies).map { units, accuracy in
                        SVGChart.Point(x: Double(units), y: accuracy, low: accuracy, high: accuracy)
                    })
            }
            return SVGChart.lines(
                title: "Units silenced at level \(record.level)", xLabel: "first-layer units silenced",
                yLabel: "test accuracy", series: series, logX: true, xPercent: false)
        }
        guard !charts.isEmpty else { return "" }
        return "<h3>Ablation (seed's own chain)</h3><div class=\"grid\">" + charts.joined() + "</div>"
    }

    /// The 16 most connected first-layer units: their masks, then their masked weights.
    func mosaic(_ record: LevelRecord) -> String {
        guard let mask = try? NumpyArray.read("\(record.directory)/mask-0.npy"),
            let weights = try? NumpyArray.read("\(record.directory)/weights-0.npy"), mask.shape.count == 2,
            let experimentShape = imageShape(fanIn: mask.shape[0])
        else { return "" }
        let fanIn = mask.shape[0], fanOut = mask.shape[1]
        let m = mask.integers(), w = weights.floats()
        var degree = [Int](repeating: 0, count: fanOut)
        for i in 0..<fanIn { for n in 0..<fanOut where m[i * fanOut + n] != 0 { degree[n] += 1 } }
        let units = UnitOrder.mostConnectedFirst(degree).prefix(16)
        let shape = [experimentShape.channels, experimentShape.height, experimentShape.width]
        var masks = "", weighted = ""
        for n in units {
            let column = (0..<fanIn).map { Double(m[$0 * fanOut + n]) }
            let values = (0..<fanIn).map { Double(w[$0 * fanOut + n]) * column[$0] }
            let peak = max(values.map(abs).max() ?? 1, 1e-12)
            masks += figure(
                channelsSideBySide(column, shape: shape, signed: false), scale: 3, caption: "unit \(n) · k=\(degree[n])"
            )
            weighted += figure(
                channelsSideBySide(values.map { $0 / peak }, shape: shape, signed: true), scale: 3, caption: "unit \(n)"
            )
        }
        return
            "<h3>Most connected units at level \(record.level) (\(percent(record.metrics.training.densityLayers[0])) of layer 1)</h3>"
            + "<div class=\"strip\">\(masks)</div><div class=\"strip\">\(weighted)</div>"
    }

    /// The image shape behind a first layer, from the out-degree map saved beside it.
    func imageShape(fanIn: Int) -> ImageShape? {
        for record in index.levels {
            if let map = try? NumpyArray.read("\(record.directory)/out_degree.npy"), map.shape.count == 3,
                map.shape.reduce(1, *) == fanIn
            {
                return ImageShape(channels: map.shape[0], height: map.shape[1], width: map.shape[2])
            }
        }
        return nil
    }

    func channelsSideBySide(_ values: [Double], shape: [Int], signed: Bool) -> PNGImage {
        let c = shape[0], h = shape[1], w = shape[2]
        let peak = signed ? 1 : max(values.max() ?? 1, 1e-12)
        var grid = [Double](repeating: signed ? 0 : 0, count: h * (w * c + c - 1))
        let rowWidth = w * c + c - 1
        for ch in 0..<c {
            for y in 0..<h {
                for x in 0..<w { grid[y * rowWidth + ch * (w + 1) + x] = values[ch * h * w + y * w + x] / peak }
            }
        }
        return PNGImage(
            width: rowWidth, height: h, values: grid, color: signed ? ColorScale.diverging : ColorScale.sequential)
    }

    func figure(_ image: PNGImage, scale: Int, caption: String) -> String {
        "<figure><img src=\"\(image.dataURI)\" width=\"\(image.width * scale)\" height=\"\(image.height * scale)\" alt=\"\(HTML.escape(caption))\"><figcaption>\(HTML.escape(caption))</figcaption></figure>"
    }

    /// Up to `count` levels spread over the chain, first and last included.
    func pick(_ chain: [LevelRecord], count: Int) -> [LevelRecord] {
        guard chain.count > count else { return chain }
        return (0..<count).map { chain[$0 * (chain.count - 1) / (count - 1)] }
    }

    func cell(_ s: SampleSummary?) -> String {
        guard let s else { return "–" }
        return s.ci95.map { IntervalText.format(s.mean, plusOrMinus: $0) } ?? IntervalText.plain(s.mean)
    }

    func percent(_ v: Double) -> String {
        v >= 0.1 ? String(format: "%.1f%%", v * 100) : String(format: "%.2f%%", v * 100)
    }
}
