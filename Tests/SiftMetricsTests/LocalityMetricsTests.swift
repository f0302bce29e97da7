import Foundation
import SiftArtifacts
import SiftData
import SiftFiles
import SiftMetrics
import SiftRandom
import Testing

/// Every metric against a brute-force implementation written straight from science §6.
@Suite struct LocalityMetricsTests {
    func randomMask(fanIn: Int, fanOut: Int, density: Double, seed: UInt64) -> ConnectivityMask {
        var s = RandomStream(root: 5, seed: seed, purpose: "mask")
        return ConnectivityMask(
            fanIn: fanIn, fanOut: fanOut, values: (0..<(fanIn * fanOut)).map { _ in s.nextDouble() < density ? 1 : 0 })
    }

    /// S^sc and S^dc by enumerating every unit's unordered input pairs.
    func bruteMaps(_ mask: ConnectivityMask, _ shape: ImageShape) -> (same: [Double], cross: [Double]) {
        let h = shape.height, w = shape.width, mw = 2 * w - 1
        var same = [Double](repeating: 0, count: (2 * h - 1) * mw), cross = same
        for n in 0..<mask.fanOut {
            let inputs = (0..<mask.fanIn).filter { mask[$0, n] }
            for a in 0..<inputs.count {
                for b in (a + 1)..<inputs.count {
                    let i = inputs[a], j = inputs[b]
                    let ci = i / (h * w), yi = i % (h * w) / w, xi = i % w
                    let cj = j / (h * w), yj = j % (h * w) / w, xj = j % w
                    for sign in [1, -1] {
                        let index = (sign * (yi - yj) + h - 1) * mw + sign * (xi - xj) + w - 1
                        if ci == cj { same[index] += 1 } else { cross[index] += 1 }
                    }
                }
            }
        }
        return (same, cross)
    }

    func bruteMeanDistance(_ same: [Double], _ shape: ImageShape) -> Double {
        let h = shape.height, w = shape.width
        var weighted = 0.0, total = 0.0
        for (index, s) in same.enumerated() {
            let dy = index / (2 * w - 1) - (h - 1), dx = index % (2 * w - 1) - (w - 1)
            weighted += s * Double(dx * dx + dy * dy).squareRoot()
            total += s
        }
        return weighted / total
    }

    @Test(arguments: [0.1, 0.4, 0.9])
    func mapsMatchPairEnumeration(_ density: Double) {
        let shape = ImageShape(channels: 2, height: 4, width: 5)
        let mask = randomMask(fanIn: 40, fanOut: 12, density: density, seed: UInt64(density * 100))
        let maps = DisplacementMaps(mask: mask, shape: shape)
        let brute = bruteMaps(mask, shape)
        #expect(maps.sameChannel == brute.same)
        #expect(maps.crossChannel == brute.cross)
        #expect(
            maps.sameChannel[(shape.height - 1) * maps.width + shape.width - 1] == 0, "no same-channel pair at d = 0")
        #expect(abs(maps.meanPairDistance! - bruteMeanDistance(brute.same, shape)) < 1e-12)
    }

    @Test func uniformDistanceMatchesAllPixelPairs() {
        for (h, w) in [(3, 3), (4, 7), (28, 28)] {
            var weighted = 0.0, count = 0.0
            for p in 0..<(h * w) {
                for q in 0..<(h * w) where p != q {
                    let dy = Double(p / w - q / w), dx = Double(p % w - q % w)
                    weighted += (dx * dx + dy * dy).squareRoot()
                    count += 1
                }
            }
            #expect(abs(uniformMeanPairDistance(height: h, width: w) - weighted / count) < 1e-9)
        }
    }

    @Test func aPatchIsLocal() {
        let shape = ImageShape(channels: 1, height: 12, width: 12)
        for k in [2, 3, 5] {
            // Units with a k×k patch at assorted positions.
            let fields = (0..<6).map { u -> [Int] in
                let top = u % (12 - k + 1), left = (u * 5) % (12 - k + 1)
                return (0..<k).flatMap { dy in (0..<k).map { dx in (top + dy) * 12 + left + dx } }
            }
            let mask = ConnectivityMask(fanIn: 144, receptiveFields: fields)
            let maps = DisplacementMaps(mask: mask, shape: shape)
            for (index, s) in maps.sameChannel.enumerated() where s > 0 {
                let dy = index / maps.width - 11, dx = index % maps.width - 11
                #expect(abs(dx) <= k - 1 && abs(dy) <= k - 1)
            }
            let analysis = LocalityAnalysis(
                masks: [mask], firstLayerWeights: nil, shape: shape, nullDraws: 4,
                stream: RandomStream(root: 1, seed: 0, purpose: "null"))
            #expect(analysis.metrics.pairDistanceRatioUniform! < 1)
        }
    }

    /// The null draws run in parallel; the result equals drawing them one after another, and repeats exactly.
    @Test func parallelNullDrawsMatchSequentialOnes() {
        let shape = ImageShape(channels: 1, height: 12, width: 12)
        let mask = randomMask(fanIn: 144, fanOut: 40, density: 0.1, seed: 3)
        let stream = RandomStream(root: 1, seed: 0, purpose: "null")
        let analysis = LocalityAnalysis(
            masks: [mask], firstLayerWeights: nil, shape: shape, nullDraws: 6, stream: stream)
        let draws = (0..<6).compactMap { r in
            DisplacementMaps(
                mask: DegreePreservingNull.draw(mask, stream: stream.derived("degree-null-\(r)")), shape: shape
            ).meanPairDistance
        }
        let nullMean = draws.reduce(0, +) / Double(draws.count)
        #expect(analysis.metrics.pairDistanceRatioDegree == analysis.maps.meanPairDistance! / nullMean)
        let again = LocalityAnalysis(masks: [mask], firstLayerWeights: nil, shape: shape, nullDraws: 6, stream: stream)
        #expect(again.metrics == analysis.metrics)
    }

    @Test func aUniformRandomMaskIsNotLocal() {
        let shape = ImageShape(channels: 1, height: 28, width: 28)
        let mask = randomMask(fanIn: 784, fanOut: 300, density: 0.1, seed: 9)
        let analysis = LocalityAnalysis(
            masks: [mask], firstLayerWeights: nil, shape: shape, nullDraws: 4,
            stream: RandomStream(root: 1, seed: 0, purpose: "null"))
        #expect(abs(analysis.metrics.pairDistanceRatioUniform! - 1) < 0.02)
        #expect(abs(analysis.metrics.pairDistanceRatioDegree! - 1) < 0.02)
        #expect(abs(analysis.metrics.gyrationRatioDegree! - 1) < 0.02)
    }

    @Test func degreePreservingDrawsKeepEveryDegree() {
        let mask = randomMask(fanIn: 50, fanOut: 30, density: 0.2, seed: 3)
        for r in 0..<3 {
            let null = DegreePreservingNull.draw(mask, stream: RandomStream(root: 2, seed: UInt64(r), purpose: "null"))
            #expect(null.inDegrees == mask.inDegrees)
            #expect(null.outDegrees == mask.outDegrees)
            let overlap = zip(null.values, mask.values).filter { $0 == 1 && $1 == 1 }.count
            #expect(Double(overlap) < 0.5 * Double(mask.values.filter { $0 == 1 }.count), "the draw must mix")
        }
    }

    /// A null draw is part of every level's metrics: the same mask and stream must keep giving the same draw,
    /// or reruns of a sweep would disagree with its stored metrics. (Pinned from the draw before the trade loop was rewritten.)
    @Test func aDegreePreservingDrawIsPinned() {
        let mask = randomMask(fanIn: 12, fanOut: 5, density: 0.4, seed: 7)
        let null = DegreePreservingNull.draw(
            mask, stream: RandomStream(root: 5, seed: 1, purpose: "pinned"), trades: 40)
        #expect(
            null.receptiveFields == [
                [1, 3, 5, 9], [1, 2, 4, 6, 9, 11], [1, 3, 6, 9], [2, 3, 4, 7, 8, 9], [1, 2, 3, 4, 5, 8, 9, 11],
            ])
        #expect(null.receptiveFields != mask.receptiveFields)
    }

    @Test func theDegreeNullSeesThroughBorderPruning() {
        // Units that keep only central pixels, at random within the centre: small D, yet nothing local.
        let shape = ImageShape(channels: 1, height: 20, width: 20)
        let centre = (0..<400).filter {
            let y = $0 / 20, x = $0 % 20; return (5..<15).contains(y) && (5..<15).contains(x)
        }
        var s = RandomStream(root: 4, seed: 0, purpose: "centre")
        let fields = (0..<80).map { _ in Array(s.permutation(centre.count).prefix(12).map { centre[$0] }).sorted() }
        let analysis = LocalityAnalysis(
            masks: [ConnectivityMask(fanIn: 400, receptiveFields: fields)], firstLayerWeights: nil,
            shape: shape, nullDraws: 8, stream: RandomStream(root: 1, seed: 0, purpose: "null"))
        #expect(analysis.metrics.pairDistanceRatioUniform! < 0.8)
        #expect(abs(analysis.metrics.pairDistanceRatioDegree! - 1) < 0.05)
        #expect(abs(analysis.metrics.pairDistanceZDegree!) < 4)
    }

    @Test func gyrationAndParticipationMatchTheirDefinitions() {
        let shape = ImageShape(channels: 1, height: 5, width: 5)
        let fields = [[0, 4, 20, 24], [12], [6, 7, 11, 12]]
        let mask = ConnectivityMask(fanIn: 25, receptiveFields: fields)
        let radii = UnitShape.gyrationRadii(mask, shape: shape)
        #expect(abs(radii[0]! - 8.0.squareRoot()) < 1e-12)  // corners: distance √8 from the centre
        #expect(radii[1] == nil)
        #expect(abs(radii[2]! - 0.5.squareRoot()) < 1e-12)

        var weights = [Float](repeating: 0, count: 25 * 3)
        for i in fields[0] { weights[i * 3] = 2 }  // uniform over 4 inputs: IPR 1/4
        weights[12 * 3 + 1] = -3  // one input: IPR 1
        weights[6 * 3 + 2] = 1; weights[7 * 3 + 2] = 2; weights[11 * 3 + 2] = 0; weights[12 * 3 + 2] = 0
        let ipr = UnitShape.inverseParticipationRatios(weights: weights, mask: mask)
        #expect(abs(ipr[0]! - 0.25) < 1e-12)
        #expect(ipr[1] == 1)
        #expect(abs(ipr[2]! - 17.0 / 25) < 1e-12)
        let analysis = LocalityAnalysis(
            masks: [mask], firstLayerWeights: weights, shape: shape, nullDraws: 2,
            stream: RandomStream(root: 1, seed: 0, purpose: "null"))
        #expect(abs(analysis.metrics.iprMean! - (0.25 + 1 + 17.0 / 25) / 3) < 1e-12)
        #expect(abs(analysis.metrics.participationRatioMean! - (4 + 1 + 25.0 / 17) / 3) < 1e-12)
    }

    /// Three layers, with more inputs than one 64-bit word holds: the bitset product against paths counted one by one.
    @Test func effectiveMasksFollowPaths() {
        let first = randomMask(fanIn: 130, fanOut: 8, density: 0.05, seed: 1)
        let second = randomMask(fanIn: 8, fanOut: 5, density: 0.3, seed: 2)
        let third = randomMask(fanIn: 5, fanOut: 3, density: 0.5, seed: 3)
        let effective = EffectiveMasks.of([first, second, third])
        #expect(effective.count == 3 && effective[0] == first)
        for i in 0..<130 {
            for n in 0..<5 {
                #expect(effective[1][i, n] == (0..<8).contains { first[i, $0] && second[$0, n] })
            }
            for m in 0..<3 {
                let paths = (0..<8).flatMap { a in (0..<5).map { b in (a, b) } }.filter { a, b in
                    first[i, a] && second[a, b] && third[b, m]
                }
                #expect(effective[2][i, m] == !paths.isEmpty)
            }
        }
    }

    /// science §6.10: every unit falls in the bin of its in-degree, and the bins' maps add up to the whole map.
    @Test(arguments: [0.1, 0.5])
    func mapsByInDegreeSumToTheWholeMap(_ density: Double) {
        let shape = ImageShape(channels: 2, height: 5, width: 6)
        let mask = randomMask(fanIn: 60, fanOut: 40, density: density, seed: 11)
        let binned = MapsByInDegree(mask: mask, shape: shape, binWidth: 4)
        let whole = bruteMaps(mask, shape)
        #expect(binned.bins.count >= 3, "degrees spread over several bins")
        #expect(binned.bins.map(\.units).reduce(0, +) == 40)
        var same = [Double](repeating: 0, count: whole.same.count), cross = same
        let degrees = mask.inDegrees
        for bin in binned.bins {
            let members = degrees.indices.filter { degrees[$0] >= bin.lowestDegree && degrees[$0] <= bin.highestDegree }
            #expect(
                bin.units == members.count && bin.highestDegree - bin.lowestDegree == 3 && bin.lowestDegree % 4 == 0)
            let part = ConnectivityMask(
                fanIn: 60, receptiveFields: members.map { n in (0..<60).filter { mask[$0, n] } })
            #expect(bin.maps.sameChannel == bruteMaps(part, shape).same)
            for k in same.indices { same[k] += bin.maps.sameChannel[k]; cross[k] += bin.maps.crossChannel[k] }
        }
        #expect(same == whole.same && cross == whole.cross)
        let analysis = LocalityAnalysis(
            masks: [mask], firstLayerWeights: nil, shape: shape, nullDraws: 0,
            stream: RandomStream(root: 1, seed: 0, purpose: "t"))
        #expect(analysis.maps.sameChannel == whole.same && analysis.maps.crossChannel == whole.cross)
    }

    /// science §6.11 on hand-built masks: a 4×4 image, four units in layer 1 each holding one corner's 2×2
    /// block, layer 2 joining the top two corners in one unit and all four in another, and a unit with
    /// no path at all. Every figure against its definition, the fields found by counting paths.
    @Test func effectiveLayerFiguresFollowThePathCount() {
        let shape = ImageShape(channels: 1, height: 4, width: 4)
        let corners = [[0, 1, 4, 5], [2, 3, 6, 7], [8, 9, 12, 13], [10, 11, 14, 15]]
        let first = ConnectivityMask(fanIn: 16, receptiveFields: corners)
        let second = ConnectivityMask(fanIn: 4, receptiveFields: [[0, 1], [0, 1, 2, 3], []])
        let output = ConnectivityMask(fanIn: 3, receptiveFields: [[0, 1, 2]])
        let stream = RandomStream(root: 3, seed: 0, purpose: "effective")
        let analysis = LocalityAnalysis(
            masks: [first, second, output], firstLayerWeights: nil, shape: shape,
            nullDraws: 4, stream: stream)
        let layers = analysis.metrics.effectiveLayers ?? []
        #expect(layers.count == 1 && layers.first?.layer == 1, "one deeper hidden layer; the output layer is not one")
        guard let figures = layers.first else { return }

        // Fields by path count: pixel i reaches unit m when Σ_n M1[i,n]·M2[n,m] > 0.
        let fields = (0..<3).map { m in
            (0..<16).filter { i in (0..<4).reduce(0) { $0 + (first[i, $1] && second[$1, m] ? 1 : 0) } > 0 }
        }
        #expect(fields == [[0, 1, 2, 3, 4, 5, 6, 7], Array(0..<16), []])
        let effective = ConnectivityMask(fanIn: 16, receptiveFields: fields)
        let distance = bruteMeanDistance(bruteMaps(effective, shape).same, shape)
        #expect(abs(figures.meanPairDistance! - distance) < 1e-12)
        #expect(
            abs(figures.pairDistanceRatioUniform! - distance / uniformMeanPairDistance(height: 4, width: 4)) < 1e-12)
        // Radii of gyration: the 4×2 top half, and the whole 4×4 image.
        let top = (1.25 + 0.25).squareRoot(), whole = (1.25 + 1.25).squareRoot()
        #expect(abs(figures.gyrationRadiusMean! - (top + whole) / 2) < 1e-12)
        #expect(figures.pixelsReachedFraction == 1)
        // The null is drawn on that same effective mask, from the layer's own streams.
        let nulls = (0..<4).map {
            DegreePreservingNull.draw(effective, stream: stream.derived("layer-1").derived("degree-null-\($0)"))
        }
        let nullDistance = nulls.map { bruteMeanDistance(bruteMaps($0, shape).same, shape) }.reduce(0, +) / 4
        #expect(abs(figures.pairDistanceRatioDegree! - distance / nullDistance) < 1e-12)
        #expect(analysis.metrics.connectedFraction == [1, 2.0 / 3, 1])
    }

    /// A draw through the complement (masks denser than one half) keeps every degree.
    @Test func denseNullDrawsKeepEveryDegree() {
        let mask = randomMask(fanIn: 30, fanOut: 20, density: 0.8, seed: 4)
        let null = DegreePreservingNull.draw(mask, stream: RandomStream(root: 4, seed: 0, purpose: "dense"))
        #expect(null.inDegrees == mask.inDegrees && null.outDegrees == mask.outDegrees)
        #expect(null != mask, "the draw moved some connections")
    }

    @Test func histogramAndBinomialNull() {
        let mask = randomMask(fanIn: 100, fanOut: 400, density: 0.05, seed: 8)
        let histogram = InDegreeHistogram(mask)
        #expect(histogram.counts.reduce(0, +) == 400)
        #expect(abs(histogram.binomialExpected.reduce(0, +) - 400) < 0.5)
        #expect(abs((0...100).map { binomialPMF(k: $0, n: 100, p: 0.05) }.reduce(0, +) - 1) < 1e-9)
        let degrees = mask.inDegrees
        for k in histogram.counts.indices { #expect(histogram.counts[k] == degrees.filter { $0 == k }.count) }
    }
}
