// swift-tools-version:6.1
import Foundation
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny")
]

/// OpenVINO's C headers and libraries, unpacked from the PyPI wheel by infra/dev/install.sh
/// (`make test`, `make up` and `make build` run it first). The libraries are found at run
/// time through the rpath.
let openVINO = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(".dev/openvino").path
let openVINOHeaders: [SwiftSetting] = [.unsafeFlags(["-Xcc", "-I\(openVINO)/include"])]
let openVINOLibraries: [LinkerSetting] = [.unsafeFlags(["-L\(openVINO)/lib", "-Xlinker", "-rpath", "-Xlinker", "\(openVINO)/lib"])]

/// The eight services share one shape: an executable target under Services/<Name>
/// with its SQL migrations as resources.
func service(
    _ name: String, extra: [Target.Dependency] = [], resources: [Resource] = [], swiftSettings: [SwiftSetting] = [],
    linkerSettings: [LinkerSetting] = []
) -> Target {
    .executableTarget(
        name: name,
        dependencies: [
            "ServiceKit", "Persistence", "Messaging", "Contracts", "ServiceHost", "Jobs",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "PostgresNIO", package: "postgres-nio"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
        ] + extra,
        path: "Services/\(name)",
        exclude: [],
        resources: [.copy("Migrations")] + resources,
        swiftSettings: strict + swiftSettings,
        linkerSettings: linkerSettings
    )
}

let package = Package(
    name: "platform",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "gateway", targets: ["Gateway"]),
        .executable(name: "auth", targets: ["Auth"]),
        .executable(name: "tasks", targets: ["Tasks"]),
        .executable(name: "experience", targets: ["Experience"]),
        .executable(name: "search", targets: ["Search"]),
        .executable(name: "notifications", targets: ["Notifications"]),
        .executable(name: "campaigns", targets: ["Campaigns"]),
        .executable(name: "photoml", targets: ["PhotoML"]),
        .executable(name: "relay-ceiling", targets: ["RelayCeiling"]),
        .executable(name: "contracts", targets: ["ContractsTool"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.0", traits: []),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth.git", from: "2.5.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.0"),
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.7.1"),
        .package(url: "https://github.com/apple/swift-crypto.git", "4.0.0"..<"5.0.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        // Traces over OTLP/HTTP only (no gRPC stack).
        .package(url: "https://github.com/swift-otel/swift-otel.git", from: "1.6.0", traits: ["OTLPHTTP"]),
        .package(url: "https://github.com/apple/swift-distributed-tracing.git", from: "1.7.0"),
    ],
    targets: [
        // librdkafka from Debian's librdkafka-dev; infra/dev/install installs it.
        .systemLibrary(
            name: "CRdKafka",
            path: "Shared/CRdKafka",
            pkgConfig: "rdkafka",
            providers: [.apt(["librdkafka-dev"])]
        ),
        .target(
            name: "Contracts",
            path: "contracts/Sources/Contracts",
            swiftSettings: strict
        ),
        .executableTarget(
            name: "ContractsTool",
            dependencies: ["Contracts", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "contracts/Tool",
            swiftSettings: strict
        ),
        // The services' OpenAPI documents (YAML, the contract) and their JSON form.
        .target(
            name: "APIDocuments",
            dependencies: [.product(name: "Yams", package: "Yams")],
            path: "contracts/openapi",
            // One document per service, named for it; each service serves its own.
            resources: ["auth", "campaigns", "experience", "gateway", "notifications", "photoml", "search", "tasks"].map { .copy("\($0).yaml") },
            swiftSettings: strict
        ),
        .target(
            name: "ServiceKit",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "OTel", package: "swift-otel"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                "Contracts", "APIDocuments",
            ],
            path: "Shared/ServiceKit",
            swiftSettings: strict
        ),
        .target(
            name: "Persistence",
            dependencies: [
                .product(name: "Instrumentation", package: "swift-distributed-tracing"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                "ServiceKit",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            path: "Shared/Persistence",
            swiftSettings: strict
        ),
        .target(
            name: "Messaging",
            dependencies: [
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                "CRdKafka", "Contracts", "Persistence", "ServiceKit",
                .product(name: "Hummingbird", package: "hummingbird"),
            ],
            path: "Shared/Messaging",
            swiftSettings: strict
        ),
        // The host every service executable runs on: it owns the skeleton, a service declares its parts.
        .target(
            name: "ServiceHost",
            dependencies: [
                "Contracts", "ServiceKit", "Persistence", "Messaging", "Jobs", "APIDocuments", "CMalloc",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Shared/ServiceHost",
            swiftSettings: strict
        ),
        // The durable job queue services run their background work on.
        .target(
            name: "Jobs",
            dependencies: [
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                "Persistence", "ServiceKit",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Hummingbird", package: "hummingbird"),
            ],
            path: "Shared/Jobs",
            swiftSettings: strict
        ),
        // The gateway owns no schema: no database, no migrations.
        .executableTarget(
            name: "Gateway",
            dependencies: [
                "ServiceKit", "Messaging", "Contracts",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOExtras", package: "swift-nio-extras"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            path: "Services/Gateway",
            swiftSettings: strict
        ),
        service(
            "Auth",
            extra: [
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]),
        service("Tasks"),
        service(
            "Experience",
            extra: [
                "Outbound", .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"), .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
            ]),
        service("Search"),
        // What notifications and campaigns both need of email: the SMTP client, the message,
        // template tag checks, plain text from HTML.
        .target(
            name: "Mail",
            dependencies: [
                "Jobs", .product(name: "Mustache", package: "swift-mustache"), .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"), .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Crypto", package: "swift-crypto"), .product(name: "_CryptoExtras", package: "swift-crypto"),
            ],
            path: "Shared/Mail", swiftSettings: strict),
        // Requests to URLs tenants give (webhooks, push, feeds): the SSRF guard and clients
        // pinned to the address it checked.
        .target(
            name: "Outbound",
            dependencies: [
                .product(name: "AsyncHTTPClient", package: "async-http-client"), .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "Shared/Outbound", swiftSettings: strict),
        service(
            "Notifications",
            extra: [
                "Mail", "Outbound",
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]),
        // bench/gateway.sh's ceiling: a SwiftNIO byte relay with no HTTP work.
        .executableTarget(
            name: "RelayCeiling", dependencies: [.product(name: "NIOPosix", package: "swift-nio")], path: "bench/RelayCeiling", swiftSettings: strict),
        service(
            "Campaigns",
            extra: ["Mail", .product(name: "Mustache", package: "swift-mustache"), .product(name: "Crypto", package: "swift-crypto")]),
        .systemLibrary(name: "COpenVINO", path: "Shared/COpenVINO"),
        // Photo decoding: JPEG by libjpeg-turbo's TurboJPEG API, PNG by stb_image (Debian packages).
        .systemLibrary(name: "CTurboJPEG", path: "Shared/CTurboJPEG", pkgConfig: "libturbojpeg"),
        .systemLibrary(name: "CSTBImage", path: "Shared/CSTBImage"),
        // glibc's <malloc.h>, for the service host's arena limit.
        .systemLibrary(name: "CMalloc", path: "Shared/CMalloc"),
        service(
            "PhotoML",
            extra: [
                "COpenVINO", "CTurboJPEG", "CSTBImage", .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ], resources: [.copy("Models")], swiftSettings: openVINOHeaders, linkerSettings: openVINOLibraries),

        // Test support: configuration of the test PostgreSQL and broker, fresh tenants.
        .target(
            name: "TestSupport",
            dependencies: [
                "ServiceKit", "Persistence", "Messaging", "Contracts", "APIDocuments",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Tests/TestSupport"
        ),
        .testTarget(name: "ContractsTests", dependencies: ["Contracts"], path: "Tests/ContractsTests"),
        .testTarget(
            name: "ServiceKitTests", dependencies: ["ServiceKit", "TestSupport", .product(name: "HummingbirdTesting", package: "hummingbird")],
            path: "Tests/ServiceKitTests"),
        .testTarget(name: "PersistenceTests", dependencies: ["Persistence", "TestSupport"], path: "Tests/PersistenceTests"),
        .testTarget(name: "MessagingTests", dependencies: ["Messaging", "ServiceHost", "TestSupport"], path: "Tests/MessagingTests"),
        .testTarget(name: "JobsTests", dependencies: ["Jobs", "TestSupport"], path: "Tests/JobsTests"),
        .testTarget(
            name: "AuthTests", dependencies: ["Auth", "TestSupport", .product(name: "HummingbirdTesting", package: "hummingbird")],
            path: "Tests/AuthTests"),
        .testTarget(
            name: "TasksTests", dependencies: ["Tasks", "Jobs", "TestSupport", .product(name: "HummingbirdTesting", package: "hummingbird")],
            path: "Tests/TasksTests"),
        .testTarget(
            name: "SearchTests", dependencies: ["Search", "Jobs", "TestSupport", .product(name: "HummingbirdTesting", package: "hummingbird")],
            path: "Tests/SearchTests"),
        .testTarget(
            name: "MailTests", dependencies: ["Mail", "TestSupport", .product(name: "NIOCore", package: "swift-nio")], path: "Tests/MailTests"),
        .testTarget(
            name: "NotificationsTests",
            dependencies: ["Notifications", "Jobs", "Mail", "Outbound", "TestSupport", .product(name: "Crypto", package: "swift-crypto")],
            path: "Tests/NotificationsTests"),
        .testTarget(
            name: "PhotoMLTests",
            dependencies: [
                "PhotoML", "Jobs", "Persistence", "ServiceKit", "TestSupport", .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            path: "Tests/PhotoMLTests", resources: [.copy("Models")],
            swiftSettings: openVINOHeaders),
        .testTarget(
            name: "CampaignsTests",
            dependencies: [
                "Campaigns", "Jobs", "Mail", "ServiceKit", "Persistence", "TestSupport", .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "Tests/CampaignsTests"),
        .testTarget(
            name: "ExperienceTests",
            dependencies: [
                "Experience", "Contracts", "Persistence", "ServiceKit", "TestSupport", .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
            ],
            path: "Tests/ExperienceTests"),
        .testTarget(
            name: "GatewayTests", dependencies: ["Gateway", "TestSupport", .product(name: "HummingbirdTesting", package: "hummingbird")],
            path: "Tests/GatewayTests"),
        .testTarget(
            name: "SystemTests",
            dependencies: [
                "TestSupport", "Gateway", "Auth", "Tasks", "Search",
                "Experience", "Notifications", "Campaigns", "PhotoML", "Mail", "Outbound",
                .product(name: "Hummingbird", package: "hummingbird"), .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            path: "Tests/SystemTests"
        ),
    ]
)
