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
    .library(name: "CotarWriter", targets: ["CotarWriter"]),
    .library(name: "CotarHTTP", targets: ["CotarHTTP"]),
    .library(name: "CotarServer", targets: ["CotarServer"]),
    .library(name: "CotarS3", targets: ["CotarS3"]),
    .executable(name: "cotar", targets: ["CotarCLI"]),
    .executable(name: "cotar-bench", targets: ["CotarBench"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    .package(url: "https://github.com/apple/swift-crypto", from: "3.12.0"),
    .package(url: "https://github.com/swift-server/async-http-client", from: "1.26.0"),
    .package(url: "https://github.com/apple/swift-nio", from: "2.81.0"),
    .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.27.0"),
    .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
    .package(url: "https://github.com/apple/swift-log", from: "1.5.0"),
    .package(url: "https://github.com/apple/swift-http-types.git", from: "1.0.0"),
    .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.24.0"),
    .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.6.0"),
    .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.4.0"),
  ],
  targets: [
    .target(name: "CotarCore", dependencies: ["CZlib"], swiftSettings: strictSettings),
    .target(name: "CotarWriter", dependencies: ["CotarCore"], swiftSettings: strictSettings),
    .target(
      name: "CotarHTTP",
      dependencies: [
        "CotarCore",
        .product(name: "AsyncHTTPClient", package: "async-http-client"),
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOHTTP1", package: "swift-nio"),
        .product(name: "NIOPosix", package: "swift-nio"),
        .product(name: "NIOSSL", package: "swift-nio-ssl"),
      ],
      swiftSettings: strictSettings
    ),
    .target(
      name: "CotarS3",
      dependencies: [
        "CotarCore", "CotarHTTP",
        .product(name: "Crypto", package: "swift-crypto"),
        .product(name: "AsyncHTTPClient", package: "async-http-client"),
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOHTTP1", package: "swift-nio"),
      ],
      swiftSettings: strictSettings
    ),
    .systemLibrary(name: "CZlib", path: "Sources/CZlib"),
    .target(
      name: "CotarServer",
      dependencies: [
        "CotarCore",
        "CotarHTTP",
        .product(name: "Hummingbird", package: "hummingbird"),
        .product(name: "HummingbirdCore", package: "hummingbird"),
        .product(name: "Logging", package: "swift-log"),
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOHTTP1", package: "swift-nio"),
        .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
        .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        .product(name: "UnixSignals", package: "swift-service-lifecycle"),
        .product(name: "HTTPTypes", package: "swift-http-types"),
      ],
      swiftSettings: strictSettings
    ),
    .executableTarget(
      name: "CotarCLI",
      dependencies: [
        "CotarCore",
        "CotarWriter",
        "CotarHTTP",
        "CotarS3",
        "CotarServer",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
        .product(name: "Crypto", package: "swift-crypto"),
        .product(name: "AsyncHTTPClient", package: "async-http-client"),
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "Logging", package: "swift-log"),
      ],
      swiftSettings: strictSettings
    ),
    .executableTarget(
      name: "CotarBench",
      dependencies: [
        "CotarCore", "CotarWriter", "CotarHTTP", "CotarTestSupport",
        .product(name: "AsyncHTTPClient", package: "async-http-client"),
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOHTTP1", package: "swift-nio"),
      ],
      path: "Benchmarks/CotarBench",
      swiftSettings: strictSettings
    ),
    .testTarget(name: "CotarCoreTests", dependencies: ["CotarCore", "CotarTestSupport"], swiftSettings: strictSettings),
    .testTarget(
      name: "CotarWriterTests", dependencies: ["CotarWriter", "CotarCore", "CotarTestSupport"], swiftSettings: strictSettings),
    .target(
      name: "CotarTestSupport",
      dependencies: [
        "CotarCore",
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOPosix", package: "swift-nio"),
        .product(name: "NIOHTTP1", package: "swift-nio"),
        .product(name: "NIOSSL", package: "swift-nio-ssl"),
      ],
      path: "Tests/CotarTestSupport",
      swiftSettings: strictSettings
    ),
    .testTarget(
      name: "CotarHTTPTests",
      dependencies: [
        "CotarHTTP", "CotarCore", "CotarTestSupport",
        .product(name: "AsyncHTTPClient", package: "async-http-client"),
        .product(name: "NIOHTTP1", package: "swift-nio"),
      ],
      swiftSettings: strictSettings
    ),
    .testTarget(
      name: "CotarS3Tests",
      dependencies: [
        "CotarS3", "CotarHTTP", "CotarCore", "CotarTestSupport",
        .product(name: "AsyncHTTPClient", package: "async-http-client"),
        .product(name: "NIOHTTP1", package: "swift-nio"),
      ],
      swiftSettings: strictSettings
    ),
    .testTarget(
      name: "CotarCLITests",
      dependencies: ["CotarCLI", "CotarCore", "CotarWriter", "CotarS3", "CotarTestSupport"],
      swiftSettings: strictSettings
    ),
    .testTarget(
      name: "CotarServerTests",
      dependencies: [
        "CotarServer",
        "CotarCore",
        "CotarHTTP",
        "CotarTestSupport",
        "CZlib",
        .product(name: "Hummingbird", package: "hummingbird"),
        .product(name: "HummingbirdTesting", package: "hummingbird"),
        .product(name: "Logging", package: "swift-log"),
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "HTTPTypes", package: "swift-http-types"),
      ],
      swiftSettings: strictSettings
    ),
  ]
)
