import Foundation
import Yams

/// The OpenAPI 3.1 documents of the services, kept as YAML beside this file (the contract
/// clients read) and served as JSON by each service at `/openapi.json`.
public enum APIDocument {
    /// The services that have a document: `<name>.yaml` in this folder.
    public static var services: Set<String> {
        let files = Bundle.module.paths(forResourcesOfType: "yaml", inDirectory: nil)
        return Set(files.map { URL(fileURLWithPath: $0).deletingPathExtension().lastPathComponent })
    }

    public struct Missing: Error, CustomStringConvertible {
        public let service: String
        public var description: String { "no OpenAPI document for \(service) in the bundle" }
    }

    /// The document as YAML text.
    public static func yaml(for service: String) throws -> String {
        guard let url = Bundle.module.url(forResource: service, withExtension: "yaml") else { throw Missing(service: service) }
        return try String(contentsOf: url, encoding: .utf8)
    }

    /// The document as a JSON-compatible value (dictionaries, arrays, strings, numbers).
    public static func object(for service: String) throws -> [String: Any] {
        // Dates stay strings: a JSON document has no dates, only their text.
        guard let node = try Yams.compose(yaml: try yaml(for: service), Resolver.default.removing(.timestamp)),
            let object = jsonValue(node) as? [String: Any]
        else { throw Missing(service: service) }
        return object
    }

    /// The document as JSON, keys sorted so that it reads the same on every start.
    public static func json(for service: String) throws -> Data {
        try JSONSerialization.data(withJSONObject: try object(for: service), options: [.sortedKeys, .withoutEscapingSlashes])
    }

    /// Every operation the document declares, as `GET /v1/tasks/{id}`.
    public static func operations(for service: String) throws -> Set<String> {
        let methods: Set<String> = ["get", "put", "post", "delete", "patch", "head", "options"]
        var found: Set<String> = []
        for case (let path, let item as [String: Any]) in (try object(for: service))["paths"] as? [String: Any] ?? [:] {
            for method in item.keys where methods.contains(method) { found.insert("\(method.uppercased()) \(path)") }
        }
        return found
    }

    static func jsonValue(_ node: Node) -> Any {
        switch node {
        case .scalar(let scalar):
            switch node.tag.rawValue {
            case Tag.Name.null.rawValue: return NSNull()
            case Tag.Name.bool.rawValue: return node.bool ?? scalar.string
            case Tag.Name.int.rawValue: return node.int ?? scalar.string
            case Tag.Name.float.rawValue: return node.float ?? scalar.string
            default: return scalar.string
            }
        case .mapping(let mapping):
            var object: [String: Any] = [:]
            for (key, value) in mapping { object[key.string ?? ""] = jsonValue(value) }
            return object
        case .sequence(let sequence):
            return sequence.map(jsonValue)
        case .alias:
            return NSNull()
        }
    }
}
