import SiftReport
import Testing

@Suite struct StatisticsTests {
    @Test func studentQuantilesMatchTables() {
        // Two-sided 95 % critical values from standard tables.
        for (df, expected) in [(1.0, 12.7062), (2, 4.3027), (4, 2.7764), (10, 2.2281), (30, 2.0423), (1000, 1.9623)] {
            #expect(abs(StudentT.quantile(0.975, degreesOfFreedom: df) - expected) < 1e-3, "df \(df)")
        }
        #expect(abs(StudentT.cdf(0, degreesOfFreedom: 5) - 0.5) < 1e-12)
    }

    @Test func summaryOfSeeds() throws {
        let s = try #require(SampleSummary([1, 2, 3, 4]))
        #expect(s.mean == 2.5)
        #expect(abs(s.sd - 1.2909944) < 1e-6)
        #expect(abs(s.ci95! - 3.182446 * 1.2909944 / 2) < 1e-4)
        #expect(SampleSummary([7])!.ci95 == nil)
        #expect(SampleSummary([]) == nil)
    }

    @Test func welchMatchesAKnownExample() throws {
        // scipy.stats.ttest_ind([1,2,3,4,5], [2,4,6,8,10,12], equal_var=False): t = −2.37635, p = 0.049284, df = 6.97226
        let w = try #require(WelchComparison(SampleSummary([1, 2, 3, 4, 5])!, SampleSummary([2, 4, 6, 8, 10, 12])!))
        #expect(abs(w.difference - (-4)) < 1e-12)
        #expect(abs(w.degreesOfFreedom - 6.972256) < 1e-5)
        #expect(abs(w.p - 0.0492843) < 1e-6)
        #expect(WelchComparison(SampleSummary([1, 1])!, SampleSummary([1, 1])!) == nil)
    }
}
