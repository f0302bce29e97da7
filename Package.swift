// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "Sift",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "sift", targets: ["sift"]),
        .library(name: "SiftEngine", targets: ["SiftEngine", "SiftSpec"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.20"),
    ],
    targets: [
        // System libraries, each a module map plus a one-line shim header.
        .systemLibrary(name: "CBLAS", pkgConfig: nil, providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CSystemZlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CZeroMQ", providers: [.apt(["libzmq3-dev"])]),
        // SHA-256 (SiftDigest says why not swift-crypto); libzmq3-dev brings libsodium-dev along.
        .systemLibrary(name: "CSodium", providers: [.apt(["libsodium-dev"])]),
        // Our own C: the engine's hot loops (sparse products, batch norm), built for AVX2 and baseline x86-64 in one binary.
        .target(name: "CEngineKernels"),

        // Along the data path (ARCHITECTURE.md says what each owns and must not know).
        .target(name: "SiftRandom"),
        .target(name: "SiftDigest", dependencies: ["CSodium"]),
        // The file formats Sift reads and writes (npy, npz, gzip, zip), bounded against crafted input.
        .target(
            name: "SiftFiles", dependencies: ["CSystemZlib", .product(name: "ZIPFoundation", package: "ZIPFoundation")]),
        // What a level leaves on disk: its named files, metrics.json and the records in it; no engine, BLAS
        // or metrics code, so the report can link it alone.
        .target(name: "SiftArtifacts", dependencies: ["SiftFiles"]),
        .target(name: "SiftData", dependencies: ["SiftFiles", "SiftRandom", "SiftSpec", "CBLAS"]),
        .target(name: "SiftMetrics", dependencies: ["SiftArtifacts", "SiftFiles", "SiftRandom", "CBLAS"]),
        // What an experiment is (model, training, pruning, data and its transforms) and who a chain is.
        .target(name: "SiftSpec", dependencies: ["SiftRandom"]),
        .target(
            name: "SiftEngine",
            dependencies: [
                "SiftArtifacts", "SiftFiles", "SiftData", "SiftRandom", "SiftMetrics", "SiftSpec", "CBLAS",
                "CEngineKernels",
            ]),
        .target(
            name: "SiftConfig",
            dependencies: [
                "SiftFiles", "SiftSpec", "SiftDigest",
                .product(name: "Yams", package: "Yams"),
            ]),
        // The sweep's durable task states, on SQLite; knows nothing of experiments or training.
        .target(name: "SiftStore", dependencies: [.product(name: "GRDB", package: "GRDB.swift")]),
        .target(name: "SiftWire", dependencies: ["CZeroMQ"]),
        // Leases, peers, the store and the wire: the coordinator and the worker, knowing tasks but not training.
        .target(
            name: "SiftCluster",
            dependencies: [
                "SiftWire", "SiftConfig", "SiftStore", "SiftDigest", .product(name: "Logging", package: "swift-log"),
            ]),
        // IMP levels as tasks: planned, prepared and stored on the coordinator's side, trained on the engine on
        // the worker's; and the build identifier, which digests the engine's numerics.
        .target(
            name: "SiftLevels",
            dependencies: [
                "SiftCluster", "SiftArtifacts", "SiftFiles", "SiftWire", "SiftConfig", "SiftStore", "SiftEngine",
                "SiftSpec", "SiftData",
                "SiftDigest",
            ]),
        .target(name: "SiftReport", dependencies: ["SiftArtifacts", "SiftFiles", "CSystemZlib"]),
        // The command line, a library so that the test bed's commands share its options and loops.
        .target(
            name: "SiftCommands",
            dependencies: [
                "SiftRandom", "SiftFiles", "SiftArtifacts", "SiftData", "SiftMetrics", "SiftEngine", "SiftSpec",
                "SiftConfig", "SiftStore",
                "SiftWire", "SiftCluster", "SiftLevels", "SiftReport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        .executableTarget(name: "sift", dependencies: ["SiftCommands"]),

        // Test support only (not a product): fixtures, child processes, screenshots, an in-memory log.
        .target(
            name: "SiftTestKit",
            dependencies: [
                "SiftFiles", "SiftArtifacts", "SiftData", "SiftRandom", "SiftWire", "SiftStore", "SiftConfig",
                "SiftCluster", "CSystemZlib", .product(name: "Logging", package: "swift-log"),
            ]),
        // Sleep-task coordinators and workers, hanging workers, the coordinator benchmark: not shipped.
        .executableTarget(
            name: "sift-testbed",
            dependencies: [
                "SiftCommands", "SiftCluster", "SiftLevels", "SiftConfig", "SiftStore", "SiftTestKit",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        .testTarget(
            name: "SiftDataTests",
            dependencies: ["SiftSpec", "SiftFiles", "SiftData", "SiftTestKit", "SiftRandom", "SiftEngine"]),
        .testTarget(
            name: "SiftEngineTests",
            dependencies: [
                "SiftSpec", "SiftArtifacts", "SiftFiles", "SiftEngine", "SiftTestKit", "SiftData", "SiftRandom",
                "CEngineKernels",
            ]),
        .testTarget(
            name: "SiftMetricsTests",
            dependencies: ["SiftArtifacts", "SiftFiles", "SiftMetrics", "SiftData", "SiftRandom"]),
        .testTarget(
            name: "SiftReportTests",
            // The report's tests read level folders written once by the engine (Fixtures/README.md), not trained networks.
            dependencies: ["SiftArtifacts", "SiftFiles", "SiftReport", "SiftTestKit"],
            exclude: ["Fixtures"]),
        .testTarget(name: "SiftWireTests", dependencies: ["SiftWire"]),
        .testTarget(name: "SiftRandomTests", dependencies: ["SiftRandom"]),
        .testTarget(name: "SiftDigestTests", dependencies: ["SiftDigest"]),
        .testTarget(name: "SiftFilesTests", dependencies: ["SiftFiles", "SiftTestKit"]),
        .testTarget(name: "SiftArtifactsTests", dependencies: ["SiftArtifacts", "SiftFiles", "SiftTestKit"]),
        .testTarget(name: "SiftSpecTests", dependencies: ["SiftSpec", "SiftRandom"]),
        .testTarget(
            name: "SiftClusterTests",
            dependencies: [
                "SiftSpec", "SiftCluster", "SiftWire", "SiftConfig", "SiftStore", "SiftTestKit",
                .product(name: "Logging", package: "swift-log"),
            ]),
        .testTarget(
            name: "SiftLevelsTests",
            dependencies: [
                "SiftSpec", "SiftCluster", "SiftLevels", "SiftWire", "SiftConfig", "SiftStore",
                "SiftFiles", "SiftTestKit",
            ]),
        .testTarget(
            name: "SiftConfigTests",
            dependencies: ["SiftSpec", "SiftConfig", "SiftEngine", .product(name: "Yams", package: "Yams")]),
        .testTarget(
            name: "SiftStoreTests",
            dependencies: ["SiftStore", "SiftTestKit", .product(name: "GRDB", package: "GRDB.swift")]),
        .testTarget(
            name: "SiftCLITests",
            dependencies: [
                "SiftSpec", "SiftTestKit", "SiftData", "SiftEngine", "SiftConfig", "SiftStore", "SiftWire",
                "SiftCluster", "SiftLevels",
            ]),
    ]
)
