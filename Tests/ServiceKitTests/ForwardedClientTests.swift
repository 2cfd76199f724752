import ServiceKit
import Testing

@Suite("the client behind the gateway")
struct ForwardedClientTests {
    let gateway = ForwardedClient.blocks("10.0.0.0/8,fd00::/8") ?? []

    @Test("a trusted proxy's last X-Forwarded-For hop is the client; earlier, client-written hops are not")
    func trustedPeer() {
        #expect(ForwardedClient.address(peer: "10.2.3.4", forwardedFor: "6.6.6.6, 203.0.113.9", trusted: gateway) == "203.0.113.9")
        #expect(ForwardedClient.address(peer: "fd12::1", forwardedFor: "203.0.113.9", trusted: gateway) == "203.0.113.9")
        #expect(ForwardedClient.address(peer: "10.2.3.4", forwardedFor: nil, trusted: gateway) == "10.2.3.4")
        #expect(ForwardedClient.address(peer: "10.2.3.4", forwardedFor: " , ", trusted: gateway) == "10.2.3.4")
    }

    @Test("a caller that is not the gateway cannot name its address by a header")
    func untrustedPeer() {
        #expect(ForwardedClient.address(peer: "192.0.2.1", forwardedFor: "203.0.113.9", trusted: gateway) == "192.0.2.1")
        #expect(ForwardedClient.address(peer: "11.0.0.1", forwardedFor: "203.0.113.9", trusted: gateway) == "11.0.0.1")
        #expect(ForwardedClient.address(peer: "127.0.0.1", forwardedFor: "203.0.113.9", trusted: []) == "127.0.0.1")
    }

    @Test("blocks parse addresses and prefixes, and refuse anything else")
    func blocks() {
        #expect(AddressBlock("172.16.0.0/12")?.contains("172.31.255.255") == true)
        #expect(AddressBlock("172.16.0.0/12")?.contains("172.32.0.0") == false)
        #expect(AddressBlock("127.0.0.1")?.contains("127.0.0.1") == true)
        #expect(AddressBlock("127.0.0.1")?.contains("127.0.0.2") == false)
        #expect(AddressBlock("::1")?.contains("::1") == true)
        #expect(AddressBlock("10.0.0.0/8")?.contains("::ffff:10.0.0.1") == false)
        #expect(AddressBlock("10.0.0.0/33") == nil)
        #expect(AddressBlock("gateway") == nil)
        #expect(ForwardedClient.blocks("10.0.0.0/8, nonsense") == nil)
    }
}
