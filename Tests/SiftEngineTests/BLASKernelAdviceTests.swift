import SiftEngine
import Testing

/// OpenBLAS's fallback kernels on a CPU that could do better are named with the variable that fixes them;
/// kernels that fit the CPU, or that the user chose, get no advice.
@Suite struct BLASKernelAdviceTests {
    static let avx512: Set<String> = [
        "sse3", "avx", "avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512cd",
    ]
    static let avx2: Set<String> = ["sse3", "avx", "avx2", "fma"]

    @Test func fallbackKernelsOnABetterCPUAreNamedWithTheFix() throws {
        let skylake = try #require(BLASKernelAdvice.advice(core: "Prescott", cpuFlags: Self.avx512, coreTypeSet: false))
        #expect(
            skylake.contains("Prescott") && skylake.contains("AVX-512")
                && skylake.contains("OPENBLAS_CORETYPE=SkylakeX"))
        let haswell = try #require(BLASKernelAdvice.advice(core: "Nehalem", cpuFlags: Self.avx2, coreTypeSet: false))
        #expect(haswell.contains("OPENBLAS_CORETYPE=Haswell") && haswell.contains("AVX2 and FMA"))
    }

    @Test func fittingOrChosenKernelsGetNoAdvice() {
        #expect(BLASKernelAdvice.advice(core: "SkylakeX", cpuFlags: Self.avx512, coreTypeSet: false) == nil)
        #expect(BLASKernelAdvice.advice(core: "Zen", cpuFlags: Self.avx512, coreTypeSet: false) == nil)
        #expect(BLASKernelAdvice.advice(core: "Haswell", cpuFlags: Self.avx2, coreTypeSet: false) == nil)
        #expect(BLASKernelAdvice.advice(core: "Prescott", cpuFlags: ["sse3", "avx"], coreTypeSet: false) == nil)
        #expect(BLASKernelAdvice.advice(core: "Prescott", cpuFlags: Self.avx512, coreTypeSet: true) == nil)
    }
}
