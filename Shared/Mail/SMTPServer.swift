import Foundation

/// Where a mailer connects, read from its `smtp://` or `smtps://` URL.
struct SMTPServer: Sendable {
    let host: String
    let port: Int
    /// `smtps://`: TLS from the first byte (RFC 8314), instead of STARTTLS.
    let implicitTLS: Bool

    init(url: String) throws {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(),
            scheme == "smtp" || scheme == "smtps", let host = components.host, !host.isEmpty
        else { throw SMTPFailure.transient("not an smtp:// or smtps:// URL: \(url)") }
        self.host = host
        implicitTLS = scheme == "smtps"
        port = components.port ?? (implicitTLS ? 465 : 25)
    }

    /// The name the server's certificate must carry. Server Name Indication takes no IP
    /// address; the certificate is then checked against the address connected to.
    var tlsName: String? {
        host.allSatisfy({ $0.isNumber || $0 == "." || $0 == ":" }) ? nil : host
    }
}
