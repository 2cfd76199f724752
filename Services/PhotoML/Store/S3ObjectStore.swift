import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// Objects in an S3 bucket, path-style (`<endpoint>/<bucket>/<key>`), signed with SigV4.
/// An object larger than `partSize` goes up as a multipart upload (aborted if a part
/// fails, so no half-object is left behind).
struct S3ObjectStore: ObjectStore {
    let endpoint: URL
    let bucket: String
    let signer: SigV4
    let client: HTTPClient
    var partSize = 8 * 1024 * 1024
    /// How long one request may take, connecting included: an unreachable bucket is
    /// retried by the client until then, and a request waiting on it fails after.
    var timeout: TimeAmount = .seconds(30)

    struct Failure: Error, CustomStringConvertible {
        let operation: String
        let status: Int
        let body: String
        var description: String { "S3 \(operation) answered \(status): \(body.prefix(300))" }
    }

    /// Creates the bucket unless it exists.
    func ensureBucket() async throws {
        let (status, body, _) = try await send("PUT", key: nil, body: [])
        guard status == 200 || body.contains("BucketAlreadyOwnedByYou") else { throw Failure(operation: "CreateBucket", status: status, body: body) }
    }

    func put(_ key: String, _ bytes: [UInt8]) async throws {
        guard bytes.count > partSize else {
            let (status, body, _) = try await send("PUT", key: key, body: bytes)
            guard status == 200 else { throw Failure(operation: "PutObject", status: status, body: body) }
            return
        }
        try await putInParts(key, bytes)
    }

    func get(_ key: String) async throws -> [UInt8] {
        let (status, body, bytes) = try await send("GET", key: key, body: [])
        if status == 404 { throw ObjectStoreError.notFound(key) }
        guard status == 200 else { throw Failure(operation: "GetObject", status: status, body: body) }
        return bytes
    }

    func delete(_ key: String) async throws {
        let (status, body, _) = try await send("DELETE", key: key, body: [])
        guard status == 204 || status == 200 || status == 404 else { throw Failure(operation: "DeleteObject", status: status, body: body) }
    }

    func presignedURL(_ method: String, key: String, seconds: Int) -> URL? {
        let path = "/\(bucket)/\(key)"
        let query = signer.presign(method: method, path: path, host: host, seconds: seconds, date: Date())
        return URL(string: endpoint.absoluteString + SigV4.encodePath(path) + "?" + SigV4.canonicalQuery(query))
    }

    var host: String { endpoint.port.map { "\(endpoint.host ?? ""):\($0)" } ?? (endpoint.host ?? "") }

    private func putInParts(_ key: String, _ bytes: [UInt8]) async throws {
        let (status, body, _) = try await send("POST", key: key, query: [("uploads", "")], body: [])
        guard status == 200, let uploadID = Self.element("UploadId", in: body) else {
            throw Failure(operation: "CreateMultipartUpload", status: status, body: body)
        }
        do {
            var etags: [String] = []
            for (index, start) in stride(from: 0, to: bytes.count, by: partSize).enumerated() {
                let part = Array(bytes[start..<min(start + partSize, bytes.count)])
                let query = [("partNumber", String(index + 1)), ("uploadId", uploadID)]
                let (status, body, _, headers) = try await exchange("PUT", key: key, query: query, body: part)
                guard status == 200, let etag = headers.first(name: "etag") else {
                    throw Failure(operation: "UploadPart", status: status, body: body)
                }
                etags.append(etag)
            }
            let parts = etags.enumerated().map { "<Part><PartNumber>\($0.offset + 1)</PartNumber><ETag>\($0.element)</ETag></Part>" }.joined()
            let completion = Array("<CompleteMultipartUpload>\(parts)</CompleteMultipartUpload>".utf8)
            let (status, body, _) = try await send("POST", key: key, query: [("uploadId", uploadID)], body: completion)
            // S3 may answer 200 with an error document.
            guard status == 200, !body.contains("<Error>") else { throw Failure(operation: "CompleteMultipartUpload", status: status, body: body) }
        } catch {
            _ = try? await send("DELETE", key: key, query: [("uploadId", uploadID)], body: [])
            throw error
        }
    }

    private func send(_ method: String, key: String?, query: [(String, String)] = [], body: [UInt8]) async throws -> (Int, String, [UInt8]) {
        let (status, text, bytes, _) = try await exchange(method, key: key, query: query, body: body)
        return (status, text, bytes)
    }

    private func exchange(
        _ method: String, key: String?, query: [(String, String)], body: [UInt8]
    ) async throws -> (Int, String, [UInt8], HTTPHeaders) {
        let path = "/\(bucket)" + (key.map { "/\($0)" } ?? "")
        let queryString = SigV4.canonicalQuery(query)
        var request = HTTPClientRequest(url: endpoint.absoluteString + SigV4.encodePath(path) + (queryString.isEmpty ? "" : "?\(queryString)"))
        request.method = HTTPMethod(rawValue: method)
        for (name, value) in signer.sign(
            method: method, path: path, query: query, headers: ["host": host], payloadHash: SigV4.payloadHash(body), date: Date())
        {
            request.headers.add(name: name, value: value)
        }
        if !body.isEmpty || method == "PUT" { request.body = .bytes(ByteBuffer(bytes: body)) }
        let response = try await client.execute(request, timeout: timeout)
        let collected = try await response.body.collect(upTo: 1 << 30)
        let bytes = Array(buffer: collected)
        return (Int(response.status.code), String(decoding: bytes.prefix(4096), as: UTF8.self), bytes, response.headers)
    }

    /// The text of the first `<name>` element of a small XML answer.
    static func element(_ name: String, in xml: String) -> String? {
        guard let start = xml.range(of: "<\(name)>"), let end = xml.range(of: "</\(name)>", range: start.upperBound..<xml.endIndex) else {
            return nil
        }
        return String(xml[start.upperBound..<end.lowerBound])
    }
}
