import Foundation

/// Where photo bytes live: one protocol, a filesystem directory by default, or S3.
protocol ObjectStore: Sendable {
    func put(_ key: String, _ bytes: [UInt8]) async throws
    func get(_ key: String) async throws -> [UInt8]
    func delete(_ key: String) async throws
    /// A URL through which a client may GET or PUT the object itself, without other
    /// credentials, for `seconds`; nil for a store that has no such URLs.
    func presignedURL(_ method: String, key: String, seconds: Int) -> URL?
}

enum ObjectStoreError: Error, Equatable {
    case notFound(String)
    case invalidKey(String)
}

/// Objects as files under a root directory; a key's slashes are subdirectories. A write
/// goes to a temporary name first and is renamed, so a reader never sees half a photo.
struct FileObjectStore: ObjectStore {
    let root: URL

    init(root: URL) throws {
        self.root = root
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    }

    func url(_ key: String) throws -> URL {
        let segments = key.split(separator: "/", omittingEmptySubsequences: false)
        guard !segments.isEmpty, segments.allSatisfy({ !$0.isEmpty && $0 != "." && $0 != ".." }) else { throw ObjectStoreError.invalidKey(key) }
        return segments.reduce(root) { $0.appendingPathComponent(String($1)) }
    }

    func put(_ key: String, _ bytes: [UInt8]) async throws {
        let target = try url(key)
        try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
        let temporary = target.deletingLastPathComponent().appendingPathComponent(".\(UUID().uuidString).part")
        try Data(bytes).write(to: temporary)
        do {
            if FileManager.default.fileExists(atPath: target.path) { try FileManager.default.removeItem(at: target) }
            try FileManager.default.moveItem(at: temporary, to: target)
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw error
        }
    }

    func get(_ key: String) async throws -> [UInt8] {
        let target = try url(key)
        guard let data = FileManager.default.contents(atPath: target.path) else { throw ObjectStoreError.notFound(key) }
        return [UInt8](data)
    }

    func delete(_ key: String) async throws {
        let target = try url(key)
        if FileManager.default.fileExists(atPath: target.path) { try FileManager.default.removeItem(at: target) }
    }

    /// Files are reached only through the service.
    func presignedURL(_ method: String, key: String, seconds: Int) -> URL? { nil }
}
