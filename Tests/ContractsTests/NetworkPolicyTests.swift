import Foundation
import Testing

/// infra/k8s/base/network-policies.yaml, read as text: only the gateway is reachable from
/// outside the platform, every other service only from the gateway (and Prometheus), and
/// only the services that call out reach the internet.
@Suite("Kubernetes network policies")
struct NetworkPolicyTests {
    static let base = contractsFolder.deletingLastPathComponent().appendingPathComponent("infra/k8s/base")
    static let services = ["auth", "tasks", "experience", "search", "notifications", "campaigns", "photoml"]

    static func policies() throws -> [String: String] {
        let text = try String(contentsOf: base.appendingPathComponent("network-policies.yaml"), encoding: .utf8)
        var byName: [String: String] = [:]
        for block in text.components(separatedBy: "---\n") {
            guard let line = block.split(separator: "\n").first(where: { $0.trimmingCharacters(in: .whitespaces).hasPrefix("name: ") }) else {
                continue
            }
            byName[line.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "name: ", with: "")] = block
        }
        return byName
    }

    @Test("the base applies them, and all traffic in and out is denied unless allowed")
    func defaultDeny() throws {
        let kustomization = try String(contentsOf: Self.base.appendingPathComponent("kustomization.yaml"), encoding: .utf8)
        #expect(kustomization.contains("- network-policies.yaml"))
        let deny = try #require(try Self.policies()["default-deny"])
        #expect(deny.contains("podSelector: {}") && deny.contains("policyTypes: [Ingress, Egress]"))
        #expect(!deny.contains("ingress:\n") && !deny.contains("egress:\n"))
    }

    @Test("only the services that call out reach the internet, and never private networks")
    func internet() throws {
        let policy = try #require(try Self.policies()["internet-egress"])
        let selected = try #require(policy.split(separator: "\n").first { $0.contains("operator: In") })
        for service in ["notifications", "campaigns", "experience", "auth", "photoml"] { #expect(selected.contains(service)) }
        for service in ["tasks", "search", "gateway"] { #expect(!selected.contains(service)) }
        #expect(policy.contains("except: [10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16"))
    }

    @Test("every service but the gateway accepts traffic only from the gateway and Prometheus")
    func servicesFromGatewayOnly() throws {
        let policy = try #require(try Self.policies()["services-from-gateway"])
        let selected = try #require(policy.split(separator: "\n").first { $0.contains("operator: In") })
        for service in Self.services { #expect(selected.contains(service), "\(service) is not protected") }
        #expect(!selected.contains("gateway"))
        #expect(policy.contains("matchLabels: {app.kubernetes.io/name: gateway}"))
        #expect(policy.contains("matchLabels: {app.kubernetes.io/name: prometheus}"))
        // Every service of the base has a Deployment the policy selects by its name label.
        for service in Self.services {
            let manifest = try String(contentsOf: Self.base.appendingPathComponent("services/\(service).yaml"), encoding: .utf8)
            #expect(manifest.contains("app.kubernetes.io/name: \(service)"))
        }
    }
}
