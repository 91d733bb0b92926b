// swift-tools-version:6.1
import PackageDescription

// Quiver: GPU-accelerated compute engine for recommendation and search.
// Dependencies point one way: QuiverCore <- {QuiverCPU, QuiverOpenCL, QuiverModels, QuiverText, QuiverScoring};
// QuiverScheduler is a leaf; QuiverRuntime depends on all of them; QuiverServer and QuiverHTTPBench
// (the benchmark's HTTP client) on QuiverRuntime; the CLI on those.
let package = Package(
    name: "Quiver",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "quiver", targets: ["quiver"]),
        .library(name: "QuiverRuntime", targets: ["QuiverRuntime"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.0.0"),
        // Already in the graph through Hummingbird; named for the benchmark's HTTP client.
        .package(url: "https://github.com/apple/swift-nio", from: "2.0.0"),
    ],
    targets: [
        // OpenCL is loaded at run time (dlopen of libOpenCL.so.1), so a binary without the ICD
        // loader still runs on the CPU backend; only the Khronos headers are needed to build.
        .target(name: "COpenCL", linkerSettings: [.linkedLibrary("dl")]),
        .systemLibrary(name: "CBLAS"),
        // Transcendental activations compiled for AVX-512 and AVX2+FMA in one binary, picked at
        // run time (Swift cannot multiversion a function); -O3 even in debug builds.
        .target(name: "CVectorMath", cSettings: [.unsafeFlags(["-O3", "-fno-math-errno"])]),
        // bf16 score GEMM (AVX512_BF16 vdpbf16ps) for reduced-precision catalogs; -2 where unsupported.
        .target(name: "CScoreKernels", cSettings: [.unsafeFlags(["-O3"])]),
        .target(
            name: "QuiverKernels",
            path: "Kernels",
            exclude: ["README.md"],
            resources: [
                .embedInCode("gemm.cl"),
                .embedInCode("elementwise.cl"),
                .embedInCode("rowwise.cl"),
                .embedInCode("attention.cl"),
                .embedInCode("topk.cl"),
            ]
        ),
        .target(name: "QuiverCore"),
        .target(name: "QuiverCPU", dependencies: ["QuiverCore", "CBLAS", "CVectorMath", "CScoreKernels"]),
        .target(name: "QuiverOpenCL", dependencies: ["QuiverCore", "COpenCL", "QuiverKernels"]),
        .target(name: "QuiverText"),
        .target(name: "QuiverModels", dependencies: ["QuiverCore"]),
        .target(name: "QuiverScoring", dependencies: ["QuiverCore"]),
        // Leaf: batching policy only, generic over the work it schedules; no model or backend imports.
        .target(name: "QuiverScheduler"),
        .target(name: "QuiverRuntime", dependencies: ["QuiverCore", "QuiverCPU", "QuiverOpenCL", "QuiverText", "QuiverModels",
                                                      "QuiverScoring", "QuiverScheduler"]),
        // HTTP routes (OpenAI, TEI, search/recommend, metrics) over `Engine`.
        .target(name: "QuiverServer", dependencies: ["QuiverRuntime", .product(name: "Hummingbird", package: "hummingbird"),
                                                   .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")]),
        // `quiver bench --url`: the load generator's HTTP/1.1 client (SwiftNIO), kept out of
        // QuiverRuntime so the engine does not depend on a network stack.
        .target(name: "QuiverHTTPBench", dependencies: ["QuiverRuntime", .product(name: "NIOCore", package: "swift-nio"),
                                                      .product(name: "NIOPosix", package: "swift-nio"),
                                                      .product(name: "NIOHTTP1", package: "swift-nio")]),
        .executableTarget(
            name: "quiver",
            dependencies: ["QuiverRuntime", "QuiverServer", "QuiverHTTPBench", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .executableTarget(
            name: "GEMMBench",
            dependencies: ["QuiverRuntime", "CBLAS"],
            path: "Benchmarks/GEMMBench"
        ),
        .executableTarget(
            name: "ScoreKernelBench",
            dependencies: ["CScoreKernels", "CBLAS"],
            path: "Benchmarks/ScoreKernelBench"
        ),

        .target(name: "QuiverTestSupport", dependencies: ["QuiverCore", "QuiverRuntime"], path: "Tests/QuiverTestSupport"),
        .testTarget(name: "QuiverCoreTests", dependencies: ["QuiverCore"]),
        .testTarget(name: "QuiverCPUTests", dependencies: ["QuiverCPU", "QuiverTestSupport"]),
        .testTarget(name: "QuiverBackendTests", dependencies: ["QuiverCore", "QuiverTestSupport"]),
        .testTarget(name: "QuiverOpenCLTests", dependencies: ["QuiverOpenCL", "QuiverTestSupport"]),
        .testTarget(name: "QuiverRuntimeTests", dependencies: ["QuiverRuntime", "QuiverOpenCL", "QuiverTestSupport"]),
        .testTarget(name: "QuiverTextTests", dependencies: ["QuiverText"]),
        .testTarget(name: "QuiverModelsTests", dependencies: ["QuiverModels", "QuiverTestSupport"]),
        .testTarget(name: "QuiverScoringTests", dependencies: ["QuiverScoring", "QuiverTestSupport"]),
        .testTarget(name: "QuiverSchedulerTests", dependencies: ["QuiverScheduler"]),
        .testTarget(name: "QuiverServerTests", dependencies: ["QuiverServer", "QuiverHTTPBench", "QuiverTestSupport", .product(name: "Hummingbird", package: "hummingbird")]),
        .testTarget(name: "CScoreKernelsTests", dependencies: ["CScoreKernels"]),
    ]
)
