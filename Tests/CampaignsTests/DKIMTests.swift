import Crypto
import Foundation
import ServiceKit
import TestSupport
import Testing

@testable import Campaigns
@testable import Mail

/// Runs infra/dev/dkim_verify.py (dkimpy) on a message with the given public record.
func dkimpy(_ message: String, record: String) throws -> String {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let process = Process()
    process.executableURL = root.appendingPathComponent(".dev/venv/bin/python")
    process.arguments = [root.appendingPathComponent("infra/dev/dkim_verify.py").path, record]
    let input = Pipe()
    let output = Pipe()
    process.standardInput = input
    process.standardOutput = output
    try process.run()
    input.fileHandleForWriting.write(Data(message.utf8))
    try input.fileHandleForWriting.close()
    process.waitUntilExit()
    return String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
}

@Suite("DKIM")
struct DKIMTests {
    static func message() -> EmailMessage {
        EmailMessage(
            from: "=?UTF-8?B?QWNtZSBHw6RydGVu?= <news@acme.test>", to: "ada@example.com",
            subject: "Spring sale: everything in the garden, half price, for a week only, while stocks last",
            text: "Hello  Ada,\n\nroses  and tulips.  \n\n",
            html: "<p>Hello Ada</p>", messageID: "c1.s1@acme.test", date: Date(timeIntervalSince1970: 1_800_000_000),
            listUnsubscribe: "https://links.acme.test/u/1", headers: [("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")])
    }

    @Test("rsa-sha256 and ed25519-sha256 signatures verify with dkimpy; a changed body or subject does not", arguments: DKIMSigner.Algorithm.allCases)
    func verified(algorithm: DKIMSigner.Algorithm) throws {
        let key = try DKIMSigner.Key.generate(algorithm)
        let signer = DKIMSigner(domain: "acme.test", selector: "s1", key: key)
        var message = Self.message()
        message.signer = signer
        let signed = try message.wire()
        #expect(signed.hasPrefix("DKIM-Signature: v=1; a=\(algorithm.rawValue); c=relaxed/relaxed; d=acme.test; s=s1;"))
        #expect(signed.contains("h=from:to:subject:date:message-id:mime-version:content-type:list-unsubscribe:list-unsubscribe-post;"))
        #expect(try dkimpy(signed, record: key.dnsRecord) == "pass")
        #expect(try dkimpy(signed.replacingOccurrences(of: "Spring sale", with: "Autumn sale"), record: key.dnsRecord) == "fail")
        let body = signed.range(of: "\r\n\r\n").map { signed[$0.upperBound...] } ?? ""
        #expect(
            try dkimpy(signed.replacingOccurrences(of: body, with: body.replacingOccurrences(of: "--", with: "-- ")), record: key.dnsRecord) == "fail"
        )
        // A key read back from storage signs the same way.
        let stored = try DKIMSigner.Key(stored: key.stored, algorithm: algorithm)
        message.signer = DKIMSigner(domain: "acme.test", selector: "s1", key: stored)
        #expect(try dkimpy(try message.wire(), record: key.dnsRecord) == "pass")
    }

    @Test("relaxed canonicalisation: whitespace runs one space, none at line ends, no trailing empty lines")
    func canonical() {
        #expect(DKIMSigner.relaxedBody("a  b \t\r\n\r\nc\t\r\n\r\n\r\n") == "a b\r\n\r\nc\r\n")
        #expect(DKIMSigner.relaxedBody("\r\n\r\n") == "")
        #expect(DKIMSigner.relaxedHeader("Subject", " two\r\n \t words ") == "subject:two words")
    }

    @Test("a private key is sealed at rest: it opens with the service's key only; a key kept before sealing reads as it is")
    func sealed() throws {
        let key = try DKIMSigner.Key.generate(.ed25519SHA256)
        let sealer = KeySealer(key: SymmetricKey(size: .bits256))
        let column = try DKIMStore.seal(key.stored, with: sealer)
        #expect(!column.contains(key.stored))
        #expect(try DKIMStore.unseal(column, with: sealer) == key.stored)
        #expect(throws: (any Error).self) { try DKIMStore.unseal(column, with: KeySealer(key: SymmetricKey(size: .bits256))) }
        #expect(throws: (any Error).self) { try DKIMStore.unseal(DKIMStore.sealedPrefix + "not base64!", with: sealer) }
        #expect(try DKIMStore.unseal(key.stored, with: sealer) == key.stored)
    }

    @Test("admins make a key per sending domain and see its DNS record, never the private key; campaign mail from it is signed")
    func campaignSigned() async throws {
        let marketer = try await Marketer.fresh(roles: ["owner"])
        let key = try await marketer.send("PUT", "/v1/admin/campaigns/dkim/acme.test", json: ["selector": "mail2026", "algorithm": "ed25519-sha256"])
        #expect(key.status == 201)
        #expect(key.string("dnsName") == "mail2026._domainkey.acme.test")
        let record = try #require(key.string("dnsRecord"))
        #expect(record.hasPrefix("v=DKIM1; k=ed25519; p="))
        #expect(!String(decoding: key.body, as: UTF8.self).contains("private"))
        #expect(try await marketer.send("PUT", "/v1/admin/campaigns/dkim/not_a_domain").status == 404)
        #expect(try await marketer.send("PUT", "/v1/admin/campaigns/dkim/acme.test", json: ["selector": "Bad Selector!"]).status == 422)
        let member = try await Marketer.fresh(roles: ["member"], tenant: marketer.tenant)
        #expect(try await member.send("GET", "/v1/admin/campaigns/dkim").status == 403)
        #expect(try await marketer.send("GET", "/v1/admin/campaigns/dkim").items.count == 1)

        let (campaign, addresses) = try await marketer.campaign(recipients: 1)
        _ = try await marketer.send("POST", "/v1/campaigns/\(campaign)/launch")
        _ = try await marketer.waitFor(campaign, state: "finished")
        let mail = try #require(Mailbox.messages(to: addresses[0]).first)
        #expect(mail.headers["dkim-signature"]?.contains("d=acme.test; s=mail2026;") == true)
        // The private key is kept sealed.
        let column = try await withDatabase("campaigns") { database in
            try await database.withTenant(marketer.tenant) { connection in
                var found = ""
                for try await stored in try await connection.query(
                    "SELECT private_key FROM campaigns.dkim_keys WHERE domain = 'acme.test'", logger: database.logger
                ).decode(String.self) {
                    found = stored
                }
                return found
            }
        }
        #expect(column.hasPrefix(DKIMStore.sealedPrefix))
        #expect(try await Marketer.fresh(roles: ["owner"]).send("DELETE", "/v1/admin/campaigns/dkim/acme.test").status == 404)
        #expect(try await marketer.send("DELETE", "/v1/admin/campaigns/dkim/acme.test").status == 204)
    }
}
