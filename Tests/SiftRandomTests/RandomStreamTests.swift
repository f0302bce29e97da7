import SiftRandom
import Testing

@Suite struct RandomStreamTests {
    @Test func sameKeyGivesSameNumbers() {
        var a = RandomStream(root: 42, seed: 7, purpose: "init")
        var b = RandomStream(root: 42, seed: 7, purpose: "init")
        #expect((0..<100).map { _ in a.nextUInt32() } == (0..<100).map { _ in b.nextUInt32() })
        var c = RandomStream(root: 42, seed: 8, purpose: "init")
        var d = RandomStream(root: 42, seed: 7, purpose: "data")
        var e = RandomStream(root: 42, seed: 7, purpose: "init")
        let reference = (0..<4).map { _ in e.nextUInt32() }
        #expect((0..<4).map { _ in c.nextUInt32() } != reference)
        #expect((0..<4).map { _ in d.nextUInt32() } != reference)
    }

    @Test func philoxMatchesTheReferenceVector() {
        // Random123's known-answer vector for philox4x32-10 with a zero counter and a zero key.
        var zero = RandomStream(key: 0)
        let block = (0..<4).map { _ in zero.nextUInt32() }
        #expect(block == [0x6627_E8D5, 0xE169_C58D, 0xBC57_AC4C, 0x9B00_DBD8])
    }

    /// Every level's masks, weights and null draws come from these words: past the first block too, a key must
    /// keep giving the same ones, whatever the way blocks are computed.
    @Test func wordsPastTheFirstBlocksArePinned() {
        var s = RandomStream(key: 0x5EED_1234_ABCD_0042)
        let words = (0..<40).map { _ in s.nextUInt32() }
        #expect(
            Array(words[12..<20]) == [
                0x53C0_4351, 0x7FA3_BD9D, 0x1C7D_8FB6, 0x1864_0264,
                0xF5B7_BBFE, 0x3B87_9C55, 0x1A98_BEB2, 0x0462_5D2B,
            ])
        #expect(Array(words[36..<40]) == [0xC79A_E65B, 0x147B_4EF1, 0x67E8_78F0, 0x67C2_C225])
    }

    @Test func uniformAndNormalMoments() {
        var s = RandomStream(root: 1, seed: 2, purpose: "moments")
        let n = 100_000
        let u = (0..<n).map { _ in s.nextDouble() }
        #expect(abs(u.reduce(0, +) / Double(n) - 0.5) < 0.005)
        let z = (0..<n).map { _ in s.nextNormal() }
        let mean = z.reduce(0, +) / Double(n)
        let variance = z.reduce(0) { $0 + $1 * $1 } / Double(n) - mean * mean
        #expect(abs(mean) < 0.01)
        #expect(abs(variance - 1) < 0.02)
        let ints = (0..<n).map { _ in s.nextInt(below: 10) }
        for k in 0..<10 { #expect(abs(ints.filter { $0 == k }.count - n / 10) < 500) }
    }

    @Test func permutationIsAPermutation() {
        var s = RandomStream(root: 1, seed: 2, purpose: "perm")
        let p = s.permutation(1000)
        #expect(p.sorted() == Array(0..<1000))
        #expect(p != Array(0..<1000))
    }
}
