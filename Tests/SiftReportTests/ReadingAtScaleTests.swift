import SiftArtifacts
import SiftReport
import Testing

/// What a reader of a report with many experiments trips over: their order, and digits past an interval's precision.
@Suite struct ReadingAtScaleTests {
    @Test func labelsSortWithTheirNumbersAsNumbers() {
        let labels = ["variant-10", "variant-2", "variant-1", "variant-11", "b", "a-02", "a-1", "variant-100"]
        #expect(
            labels.sorted(by: NaturalOrder.precedes)
                == ["a-1", "a-02", "b", "variant-1", "variant-2", "variant-10", "variant-11", "variant-100"])
        #expect(!NaturalOrder.precedes("x", "x"))
        // Numbers longer than any integer type still compare.
        #expect(NaturalOrder.precedes("run-99999999999999999999999", "run-100000000000000000000000"))
    }

    @Test func intervalsAreRoundedToTheirPrecision() {
        #expect(IntervalText.format(0.8714, plusOrMinus: 0.003475) == "0.8714 ± 0.0035")
        #expect(IntervalText.format(0.87143215, plusOrMinus: 0.0412) == "0.871 ± 0.041")
        #expect(IntervalText.format(123.456, plusOrMinus: 12.3) == "123 ± 12")
        #expect(IntervalText.format(-0.5, plusOrMinus: 0.25) == "-0.50 ± 0.25")
        #expect(IntervalText.format(0.5, plusOrMinus: 0) == "0.5", "no interval, no rounding to it")
        #expect(IntervalText.format(0.5, plusOrMinus: .nan) == "0.5")
    }
}

/// The report's column names are metrics.json's keys wherever it reads a scalar from there.
@Suite struct MetricColumnTests {
    @Test func localityColumnsAreTheArtifactsKeys() {
        #expect(MetricColumn.locality.map(\.name) == LocalityMetrics.scalarKeys)
        #expect(MetricColumn.effective(.gyrationRadiusMean, layer: 2).name == "effective_gyration_radius_mean_layer_2")
        #expect(
            MetricColumn.effectiveLayer(of: "effective_gyration_radius_mean_layer_12", figure: .gyrationRadiusMean)
                == 12)
        #expect(
            MetricColumn.effectiveLayer(of: "effective_gyration_ratio_degree_layer_1", figure: .gyrationRadiusMean)
                == nil)
        #expect(MetricColumn.nearConstantInputsLayer(of: MetricColumn.nearConstantInputs(layer: 3).name) == 3)
    }
}
