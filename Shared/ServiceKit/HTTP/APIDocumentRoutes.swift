import APIDocuments
import Foundation
import Hummingbird
import NIOCore

extension Router {
    /// `GET /openapi.json`, and the same document under the service's public prefix
    /// (`/v1/tasks/openapi.json`) so that clients reach it through the gateway. The document
    /// is read once: a service whose document does not parse does not start.
    public func addAPIDocument(_ service: String, prefix: String) throws {
        let body = ByteBuffer(data: try APIDocument.json(for: service))
        for path in ["/openapi.json", "/\(prefix)/openapi.json"] {
            get(RouterPath(path)) { _, _ in
                Response(
                    status: .ok, headers: [.contentType: "application/json", .cacheControl: "public, max-age=300"],
                    body: .init(byteBuffer: body))
            }
        }
    }
}
