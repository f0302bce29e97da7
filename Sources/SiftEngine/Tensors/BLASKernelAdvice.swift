import Foundation

/// OpenBLAS picks its kernels from the CPU's model number when it loads. On a CPU it does not know (a VM that
/// hides the model, as the session-21 Xeon VM does) it falls back to old SSE3 kernels ("Prescott") although the
/// CPU has AVX2 or AVX-512, and dense products run several times slower: the paper's dense step at batch 1,000
/// took 637 ms there against 152 ms under `OPENBLAS_CORETYPE=SkylakeX`, while the sparse steps (Sift's own
/// kernels) did not change. The kernels are chosen before any Swift code runs, so Sift can only say so.
public enum BLASKernelAdvice {
    /// Kernels OpenBLAS falls back to or that predate AVX2: on a CPU with AVX2 and FMA they waste it.
    static let legacyCores: Set<String> = [
        "Prescott", "Core2", "Penryn", "Dunnington", "Nehalem", "Atom", "Katmai", "Coppermine", "Northwood",
        "Banias", "Sandybridge", "Opteron", "Barcelona",
    ]

    /// What to tell the user of OpenBLAS's `core` on a CPU with `cpuFlags` (from /proc/cpuinfo), or nil when
    /// the kernels fit the CPU or the user chose them (`coreTypeSet`: OPENBLAS_CORETYPE is in the environment).
    public static func advice(core: String, cpuFlags: Set<String>, coreTypeSet: Bool) -> String? {
        guard !coreTypeSet, legacyCores.contains(core) else { return nil }
        let better: String
        if cpuFlags.isSuperset(of: ["avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512cd"]) {
            better = "SkylakeX"
        } else if cpuFlags.isSuperset(of: ["avx2", "fma"]) {
            better = "Haswell"
        } else {
            return nil
        }
        return
            "OpenBLAS chose its \(core) kernels, but this CPU has \(better == "SkylakeX" ? "AVX-512" : "AVX2 and FMA"): "
            + "dense products run several times slower than they could. Set OPENBLAS_CORETYPE=\(better) for "
            + "every process of a sweep alike (results then differ from the \(core) kernels' in rounding)."
    }

    /// The advice for this process, or nil (off Linux, too: there is no /proc/cpuinfo to read).
    public static var forThisProcess: String? {
        guard let cpuinfo = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
            let flags = cpuinfo.split(separator: "\n").first(where: { $0.hasPrefix("flags") })
        else { return nil }
        let names = flags.split(separator: ":", maxSplits: 1).last?.split(separator: " ").map(String.init) ?? []
        return advice(
            core: BLAS.coreName, cpuFlags: Set(names),
            coreTypeSet: ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] != nil)
    }
}
