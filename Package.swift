// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "ggufmerge",
    // Mutex and Atomic (Synchronization) need macOS 15; Linux has no minimum.
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "GGUF", targets: ["GGUF"]),
        .library(name: "Quant", targets: ["Quant"]),
        .library(name: "Merge", targets: ["Merge"]),
        .executable(name: "ggufmerge", targets: ["ggufmerge"]),
    ],
    targets: [
        .target(name: "GGUF"),
        .target(name: "Quant", dependencies: ["GGUF"]),
        .target(name: "Merge", dependencies: ["GGUF", "Quant"]),
        .executableTarget(name: "ggufmerge", dependencies: ["GGUF", "Quant", "Merge"]),
        .executableTarget(name: "ggufmerge-bench", dependencies: ["GGUF", "Quant", "Merge"]),
        .testTarget(name: "GGUFTests", dependencies: ["GGUF"]),
        .testTarget(name: "QuantTests", dependencies: ["GGUF", "Quant"]),
        .testTarget(name: "MergeTests", dependencies: ["GGUF", "Quant", "Merge"]),
        .testTarget(name: "CLITests", dependencies: ["ggufmerge", "GGUF"]),
    ]
)
