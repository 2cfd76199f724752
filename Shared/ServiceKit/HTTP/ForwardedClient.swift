import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// A block of addresses (`10.0.0.0/8`, `::1/128`, or one address).
public struct AddressBlock: Sendable, Equatable {
    let network: [UInt8]
    let bits: Int

    public init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1).map(String.init)
        guard let first = parts.first, let bytes = Self.bytes(first) else { return nil }
        let bits = parts.count == 2 ? Int(parts[1]) : bytes.count * 8
        guard let bits, (0...(bytes.count * 8)).contains(bits) else { return nil }
        self.network = bytes
        self.bits = bits
    }

    public func contains(_ address: String) -> Bool {
        guard let bytes = Self.bytes(address), bytes.count == network.count else { return false }
        var left = bits
        for (given, mine) in zip(bytes, network) where left > 0 {
            let mask: UInt8 = left >= 8 ? 0xFF : ~(0xFF >> UInt8(left))
            if given & mask != mine & mask { return false }
            left -= 8
        }
        return true
    }

    static func bytes(_ text: String) -> [UInt8]? {
        guard let address = try? SocketAddress(ipAddress: text, port: 0) else { return nil }
        switch address {
        case .v4(let v4): return withUnsafeBytes(of: v4.address.sin_addr) { Array($0) }
        case .v6(let v6): return withUnsafeBytes(of: v6.address.sin6_addr) { Array($0) }
        default: return nil
        }
    }
}

/// Who the client is behind the gateway: the last `X-Forwarded-For` hop (the one the
/// gateway appends) when the TCP peer is a trusted proxy, else the peer itself. A caller
/// that reached the service some other way cannot name an address of its choosing.
public enum ForwardedClient {
    public static func address(peer: String?, forwardedFor: String?, trusted: [AddressBlock]) -> String? {
        guard let peer else { return nil }
        guard trusted.contains(where: { $0.contains(peer) }), let forwardedFor,
            let last = forwardedFor.split(separator: ",").last?.trimmingCharacters(in: .whitespaces), !last.isEmpty
        else { return peer }
        return last
    }

    /// `AUTH_TRUSTED_PROXIES`-style lists: comma-separated blocks.
    public static func blocks(_ text: String) -> [AddressBlock]? {
        let items = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let blocks = items.compactMap(AddressBlock.init)
        return blocks.count == items.count ? blocks : nil
    }
}

/// Puts the client's address in the context (`ServiceRequestContext.clientIP`), decided by
/// `ForwardedClient` with the service's trusted proxies.
public struct ClientAddressMiddleware: RouterMiddleware {
    public typealias Context = ServiceRequestContext
    let trusted: [AddressBlock]
    static let forwardedFor = HTTPField.Name("X-Forwarded-For")

    public init(trusted: [AddressBlock]) {
        self.trusted = trusted
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        context.clientIP = ForwardedClient.address(
            peer: context.remoteAddress?.ipAddress, forwardedFor: Self.forwardedFor.flatMap { request.headers[$0] },
            trusted: trusted)
        return try await next(request, context)
    }
}
