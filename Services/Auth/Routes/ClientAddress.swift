import HTTPTypes
import Hummingbird
import ServiceKit

extension Request {
    /// The client's IP as `ClientAddressMiddleware` decided it: the gateway's last
    /// `X-Forwarded-For` hop when the peer is a trusted proxy (`AUTH_TRUSTED_PROXIES`),
    /// else the peer.
    func clientIP(_ context: ServiceRequestContext) -> String? {
        context.clientIP ?? context.remoteAddress?.ipAddress
    }

    func actor(_ context: ServiceRequestContext) -> Actor {
        Actor(subject: context.identity?.subject, ip: clientIP(context))
    }
}
