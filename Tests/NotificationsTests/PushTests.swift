import Crypto
import Foundation
import TestSupport
import Testing

@testable import Notifications

/// A browser's side of Web Push: its keys, and decryption of what the push service holds.
struct Browser {
    let key = P256.KeyAgreement.PrivateKey()
    let auth = WebPush.randomBytes(16)

    var subscription: [String: Any] {
        ["p256dh": key.publicKey.x963Representation.base64URL, "auth": auth.base64URL]
    }

    /// RFC 8291 from the receiving end: one aes128gcm record.
    func decrypt(_ body: Data) throws -> Data {
        let bytes = [UInt8](body)
        let salt = Data(bytes[0..<16])
        let idLength = Int(bytes[20])
        let serverPublic = Data(bytes[21..<(21 + idLength)])
        let sealed = Data(bytes[(21 + idLength)...])
        let shared = try key.sharedSecretFromKeyAgreement(with: try P256.KeyAgreement.PublicKey(x963Representation: serverPublic))
        let info = Data("WebPush: info\u{0}".utf8) + key.publicKey.x963Representation + serverPublic
        let prkKey = shared.withUnsafeBytes { HKDF<SHA256>.extract(inputKeyMaterial: SymmetricKey(data: Data($0)), salt: auth) }
        let ikm = HKDF<SHA256>.expand(pseudoRandomKey: prkKey, info: info, outputByteCount: 32)
        let prk = ikm.withUnsafeBytes { HKDF<SHA256>.extract(inputKeyMaterial: SymmetricKey(data: Data($0)), salt: salt) }
        let cek = HKDF<SHA256>.expand(pseudoRandomKey: prk, info: Data("Content-Encoding: aes128gcm\u{0}".utf8), outputByteCount: 16)
        let nonce = HKDF<SHA256>.expand(pseudoRandomKey: prk, info: Data("Content-Encoding: nonce\u{0}".utf8), outputByteCount: 12)
        let box = try AES.GCM.SealedBox(
            nonce: AES.GCM.Nonce(data: nonce.withUnsafeBytes { Data($0) }), ciphertext: sealed.dropLast(16), tag: sealed.suffix(16))
        let padded = try AES.GCM.open(box, using: cek)
        #expect(padded.last == 2)
        return padded.dropLast()
    }
}

/// Checks `Authorization: vapid t=<jwt>, k=<key>`: the JWT's ES256 signature under k and its audience.
func vapidValid(_ header: String?, audience: String) throws -> Bool {
    guard let header, header.hasPrefix("vapid t=") else { return false }
    let parts = header.dropFirst(8).components(separatedBy: ", k=")
    guard parts.count == 2, let key = Data(base64URL: parts[1]) else { return false }
    let token = parts[0].split(separator: ".").map(String.init)
    guard token.count == 3, let signature = Data(base64URL: token[2]), let claims = Data(base64URL: token[1]),
        let object = try JSONSerialization.jsonObject(with: claims) as? [String: Any]
    else { return false }
    let publicKey = try P256.Signing.PublicKey(x963Representation: key)
    let valid = publicKey.isValidSignature(try P256.Signing.ECDSASignature(rawRepresentation: signature), for: Data("\(token[0]).\(token[1])".utf8))
    return valid && object["aud"] as? String == audience && (object["sub"] as? String)?.hasPrefix("mailto:") == true
}

@Suite("web push")
struct PushTests {
    @Test("a notification reaches a subscribed browser encrypted for it and VAPID-signed; a 410 removes the subscription")
    func encryptedDelivery() async throws {
        let receiver = try await WebhookReceiver.shared.value()
        let tenant = UUID.v7()
        let user = UUID.v7()
        let browser = Browser()
        let gone = Browser()
        let path = "/push/\(user)"
        let created = try await call(
            "POST", "/v1/notifications/push-subscriptions", tenant: tenant, user: user,
            json: ["endpoint": "\(receiver.baseURL)\(path)", "keys": browser.subscription])
        #expect(created.status == 201)
        receiver.script("/push-gone/\(user)", [410])
        #expect(
            try await call(
                "POST", "/v1/notifications/push-subscriptions", tenant: tenant, user: user,
                json: ["endpoint": "\(receiver.baseURL)/push-gone/\(user)", "keys": gone.subscription]
            ).status == 201)

        try await accept(request(tenant: tenant, user: user, data: ["title": "Pushed along", "taskId": "t"], channels: ["push"]))
        let received = try #require(try await receiver.waitFor(1, to: path).first)
        #expect(received.headers["content-encoding"] == "aes128gcm")
        #expect(received.headers["ttl"] != nil)
        #expect(try vapidValid(received.headers["authorization"], audience: receiver.baseURL))
        let payload = try #require(try JSONSerialization.jsonObject(with: try browser.decrypt(received.bytes)) as? [String: Any])
        #expect(payload["title"] as? String == "Reminder: Pushed along")
        #expect(
            try await eventually {
                let list = try await call("GET", "/v1/notifications/push-subscriptions", tenant: tenant, user: user)
                return (list.json["items"] as? [[String: Any]])?.count == 1
            })
        let key = try await call("GET", "/v1/notifications/push-subscriptions/vapid-public-key", tenant: tenant, user: user)
        #expect(Data(base64URL: key.string("key") ?? "")?.count == 65)
    }

    @Test("when one browser's push service fails, the retry reaches it without sending the others the message again")
    func retrySkipsReachedBrowsers() async throws {
        let receiver = try await WebhookReceiver.shared.value()
        let tenant = UUID.v7()
        let user = UUID.v7()
        let healthy = "/push/\(user)"
        let failing = "/push-busy/\(user)"
        receiver.script(failing, [503])
        for path in [healthy, failing] {
            #expect(
                try await call(
                    "POST", "/v1/notifications/push-subscriptions", tenant: tenant, user: user,
                    json: ["endpoint": "\(receiver.baseURL)\(path)", "keys": Browser().subscription]
                ).status == 201)
        }
        try await accept(request(tenant: tenant, user: user, data: ["title": "Once", "taskId": "t"], channels: ["push"]))
        let attempts = try await receiver.waitFor(2, to: failing, timeout: .seconds(30))
        #expect(attempts.count == 2)
        #expect(attempts.map { $0.headers["topic"] }.allSatisfy { $0?.count == 22 })
        #expect(receiver.requests(to: healthy).count == 1)
    }

    @Test("bad subscriptions are refused; another user's subscription is 404")
    func refusals() async throws {
        let tenant = UUID.v7()
        let user = UUID.v7()
        let browser = Browser()
        let badKey = try await call(
            "POST", "/v1/notifications/push-subscriptions", tenant: tenant, user: user,
            json: ["endpoint": "http://127.0.0.1:9/p", "keys": ["p256dh": "bm90IGEga2V5", "auth": "c2hvcnQ"]])
        #expect(badKey.status == 422)
        #expect(
            try await call(
                "POST", "/v1/notifications/push-subscriptions", tenant: tenant, user: user,
                json: ["endpoint": "http://10.1.2.3/p", "keys": browser.subscription]
            ).status == 422)
        #expect(try await call("POST", "/v1/notifications/push-subscriptions", tenant: tenant, user: user, json: ["endpoint": "x"]).status == 422)
        let created = try await call(
            "POST", "/v1/notifications/push-subscriptions", tenant: tenant, user: user,
            json: ["endpoint": "http://127.0.0.1:9/p", "keys": browser.subscription])
        let id = try #require(created.string("id"))
        #expect(try await call("DELETE", "/v1/notifications/push-subscriptions/\(id)", tenant: tenant, user: .v7()).status == 404)
        #expect(try await call("DELETE", "/v1/notifications/push-subscriptions/\(id)", tenant: .v7(), user: user).status == 404)
        #expect(try await call("DELETE", "/v1/notifications/push-subscriptions/\(id)", tenant: tenant, user: user).status == 204)
    }
}

@Suite("daily digest")
struct DigestTests {
    @Test("low-priority email waits for the digest, which sends every waiting item in one message at the user's time")
    func digest() async throws {
        let tenant = UUID.v7()
        let user = UUID.v7()
        let address = "digest-\(UUID().uuidString.prefix(8))@example.com"
        try await addMember(tenant: tenant, user: user, email: address)
        let first = "digest-a-\(UUID().uuidString)"
        let second = "digest-b-\(UUID().uuidString)"
        try await accept(
            request(tenant: tenant, user: user, data: ["title": "Low one", "taskId": "t"], priority: .low, key: first),
            request(tenant: tenant, user: user, data: ["title": "Low two", "taskId": "t"], priority: .low, key: second))
        #expect(try await emailDelivery(tenant: tenant, key: first)?.0 == "digest")
        #expect(Mailbox.messages(to: address).isEmpty)
        // The user's digest time arrives.
        try await withDatabase("notifications") { database in
            _ = try await database.withTenant(tenant) { connection in
                try await connection.query("UPDATE notifications.deliveries SET not_before = now() WHERE state = 'digest'", logger: database.logger)
            }
            try await database.client.query(
                """
                UPDATE notifications.jobs SET run_at = now(), state = 'available'
                WHERE unique_key = \(DigestDelivery.uniqueKey(user)) AND state = 'scheduled'
                """, logger: database.logger)
        }
        let mail = try #require(try await Mailbox.first(to: address))
        #expect(mail.subject == "Your daily digest: 2 notifications")
        #expect(mail.parts["text/plain"]?.contains("Reminder: Low one") == true)
        #expect(mail.parts["text/plain"]?.contains("Reminder: Low two") == true)
        // The row is marked once the server has taken the message, a moment after it lands.
        #expect(try await eventually { try await emailDelivery(tenant: tenant, key: second)?.0 == "sent" })
    }

    @Test("the next digest is at the user's local digest time")
    func nextDigestTime() throws {
        let preferences = Preferences(timeZone: "Europe/Paris", quietHours: nil, digestTime: "08:00", channels: [:])
        let formatter = ISO8601DateFormatter()
        let now = try #require(formatter.date(from: "2026-01-15T09:30:00Z"))
        #expect(preferences.nextDigest(after: now) == formatter.date(from: "2026-01-16T07:00:00Z"))
    }
}
