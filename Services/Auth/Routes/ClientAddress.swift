import Hummingbird
import HTTPTypes
import ServiceKit

extension Request {
    /// The client's IP: the last `X-Forwarded-For` hop (the one the gateway added), else
    /// the TCP peer. Services are reachable only through the gateway, which appends the
    /// address it saw; earlier hops are client-supplied and not trusted.
    func clientIP(_ context: ServiceRequestContext) -> String? {
        if let name = HTTPField.Name("X-Forwarded-For"), let forwarded = headers[name],
            let last = forwarded.split(separator: ",").last?.trimmingCharacters(in: .whitespaces), !last.isEmpty
        {
            return last
        }
        return context.remoteAddress?.ipAddress
    }

    func actor(_ context: ServiceRequestContext) -> Actor {
        Actor(subject: context.identity?.subject, ip: clientIP(context))
    }
}
