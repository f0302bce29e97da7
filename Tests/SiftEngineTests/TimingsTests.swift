@testable import SiftEngine
import Testing

/// The benchmark's figure is the fastest stretch of consecutive calls of a given length: a slow call
/// (another process on the core) spoils the stretches that hold it and no others.
@Suite struct TimingsTests {
    @Test func fastestStretchSkipsTheSlowCalls() {
        let timings = Timings(seconds: [0.3, 0.1, 0.1, 0.1, 0.5, 0.1, 0.2])
        // Stretches of at least 0.25 s: three calls of 0.1 s are the fastest, at 0.1 s each.
        #expect(abs(timings.fastestStretch(lasting: 0.25) - 0.1) < 1e-12)
        // At least 0.35 s: the three fast calls need a neighbour; with the 0.3 s one they average 0.15.
        #expect(abs(timings.fastestStretch(lasting: 0.35) - 0.15) < 1e-12)
        #expect(abs(timings.mean - 1.4 / 7) < 1e-12)
        #expect(timings.fastest == 0.1)
    }

    @Test func callsShorterThanTheSpanGiveTheirMean() {
        let timings = Timings(seconds: [0.01, 0.03])
        #expect(abs(timings.fastestStretch(lasting: 1) - 0.02) < 1e-12)
    }

    @Test func timedCallsAreCountedOncePerRepeat() {
        var calls = 0
        let timings = Timings(warmup: 2, repeats: 5) { calls += 1 }
        #expect(calls == 7)
        #expect(timings.seconds.count == 5)
    }
}
