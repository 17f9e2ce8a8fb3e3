// swift-tools-version: 6.1
import PackageDescription

let strictSettings: [SwiftSetting] = [
  .enableUpcomingFeature("MemberImportVisibility")
]

let package = Package(
  name: "Cotar",
  platforms: [.macOS(.v15)],
  products: [
    .library(name: "CotarCore", targets: ["CotarCore"]),
    .executable(name: "cotar", targets: ["CotarCLI"]),
    .executable(name: "cotar-bench", targets: ["CotarBench"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    .package(url: "https://github.com/apple/swift-crypto", from: "3.12.0"),
  ],
  targets: [
    .target(name: "CotarCore", swiftSettings: strictSettings),
    .executableTarget(
      name: "CotarCLI",
      dependencies: [
        "CotarCore",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
        .product(name: "Crypto", package: "swift-crypto"),
      ],
      swiftSettings: strictSettings
    ),
    .executableTarget(
      name: "CotarBench",
      dependencies: ["CotarCore"],
      path: "Benchmarks/CotarBench",
      swiftSettings: strictSettings
    ),
    .testTarget(name: "CotarCoreTests", dependencies: ["CotarCore"], swiftSettings: strictSettings),
    .testTarget(name: "CotarCLITests", dependencies: ["CotarCLI", "CotarCore"], swiftSettings: strictSettings),
  ]
)
