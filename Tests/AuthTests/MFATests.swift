import Foundation
import TestSupport
import Testing

@testable import Auth

/// Enrols `session`'s user in TOTP; answers the authenticator and the recovery codes.
func enrolMFA(_ session: Session) async throws -> (TOTP, [String]) {
    let enrolment = try await auth("POST", "/v1/auth/mfa/enroll", token: session.accessToken)
    #expect(enrolment.status == 200)
    let uri = try #require(enrolment.string("otpauthUri"))
    #expect(uri.hasPrefix("otpauth://totp/"))
    let secret = try #require(enrolment.string("secret"))
    let totp = TOTP(secret: try #require(base32Decode(secret)))
    let confirmed = try await auth("POST", "/v1/auth/mfa/confirm", json: ["code": totp.code(at: Date())], token: session.accessToken)
    #expect(confirmed.status == 200)
    return (totp, try #require(confirmed.json["recoveryCodes"] as? [String]))
}

func base32Decode(_ text: String) -> [UInt8]? {
    var bytes: [UInt8] = []
    var buffer = 0
    var bits = 0
    for character in text {
        guard let index = Base32.alphabet.firstIndex(of: character) else { return nil }
        buffer = (buffer << 5) | index
        bits += 5
        if bits >= 8 {
            bytes.append(UInt8((buffer >> (bits - 8)) & 0xFF))
            bits -= 8
        }
    }
    return bytes
}

/// A code for the next time step: the current one was spent on confirmation, and a
/// spent step is never accepted again.
func nextCode(_ totp: TOTP) -> String { totp.code(forStep: TOTP.timeStep(at: Date()) + 1) }

@Suite("multi-factor authentication")
struct MFATests {
    @Test("TOTP matches the RFC 6238 test vector")
    func rfcVector() {
        let totp = TOTP(secret: Array("12345678901234567890".utf8))
        // RFC 6238 Appendix B, SHA-1, T = 59 s: 94287082 (8 digits); the last 6 are ours.
        #expect(totp.code(at: Date(timeIntervalSince1970: 59)) == "287082")
        #expect(totp.code(at: Date(timeIntervalSince1970: 1_111_111_109)) == "081804")
    }

    @Test("after enrolment, login asks for a second step, and a valid code completes it")
    func loginWithMFA() async throws {
        let owner = try await Session.owner()
        let (totp, codes) = try await enrolMFA(owner)
        #expect(codes.count == 10)
        let first = try await login(owner.email, owner.password)
        #expect(first.status == 200)
        #expect(first.json["mfaRequired"] as? Bool == true)
        #expect(first.json["accessToken"] == nil)
        let mfaToken = try #require(first.string("mfaToken"))
        let wrong = try await auth("POST", "/v1/auth/mfa/verify", json: ["mfaToken": mfaToken, "code": "000000"])
        #expect(wrong.status == 401)
        let verified = try await auth("POST", "/v1/auth/mfa/verify", json: ["mfaToken": mfaToken, "code": nextCode(totp)])
        #expect(verified.status == 200)
        #expect(verified.string("accessToken") != nil)
        // The challenge is single use.
        #expect(try await auth("POST", "/v1/auth/mfa/verify", json: ["mfaToken": mfaToken, "code": nextCode(totp)]).status == 401)
    }

    @Test("a recovery code completes a login once, and only once")
    func recoveryCode() async throws {
        let owner = try await Session.owner()
        let (_, codes) = try await enrolMFA(owner)
        let token1 = try #require(try await login(owner.email, owner.password).string("mfaToken"))
        #expect(try await auth("POST", "/v1/auth/mfa/verify", json: ["mfaToken": token1, "recoveryCode": codes[0].uppercased()]).status == 200)
        let token2 = try #require(try await login(owner.email, owner.password).string("mfaToken"))
        #expect(try await auth("POST", "/v1/auth/mfa/verify", json: ["mfaToken": token2, "recoveryCode": codes[0]]).status == 401)
    }

    @Test("a challenge dies after five wrong codes")
    func attemptsLimited() async throws {
        let owner = try await Session.owner()
        let (totp, _) = try await enrolMFA(owner)
        let token = try #require(try await login(owner.email, owner.password).string("mfaToken"))
        for _ in 0..<5 { #expect(try await auth("POST", "/v1/auth/mfa/verify", json: ["mfaToken": token, "code": "123456"]).status == 401) }
        #expect(try await auth("POST", "/v1/auth/mfa/verify", json: ["mfaToken": token, "code": nextCode(totp)]).status == 401)
    }

    @Test("wrong codes over many logins lock the account's second factor; a correct password does not lift the lock")
    func guessingAcrossLogins() async throws {
        let owner = try await Session.owner()
        let (totp, _) = try await enrolMFA(owner)
        // One wrong code per challenge: each login mints a fresh five-try challenge.
        for _ in 0..<5 {
            let token = try #require(try await login(owner.email, owner.password).string("mfaToken"))
            #expect(try await auth("POST", "/v1/auth/mfa/verify", json: ["mfaToken": token, "code": "123456"]).status == 401)
        }
        let token = try #require(try await login(owner.email, owner.password).string("mfaToken"))
        let locked = try await auth("POST", "/v1/auth/mfa/verify", json: ["mfaToken": token, "code": nextCode(totp)])
        #expect(locked.status == 429)
        #expect(Int(locked.headers["retry-after"] ?? "") ?? 0 > 0)
        #expect(locked.string("accessToken") == nil)
    }

    @Test("a wrong confirmation code answers 422; verify without a code answers 422; enrolling twice answers 409")
    func badInput() async throws {
        let owner = try await Session.owner()
        #expect(try await auth("POST", "/v1/auth/mfa/enroll", token: owner.accessToken).status == 200)
        let wrong = try await auth("POST", "/v1/auth/mfa/confirm", json: ["code": "abc"], token: owner.accessToken)
        #expect(wrong.status == 422)
        #expect(try await auth("POST", "/v1/auth/mfa/verify", json: ["mfaToken": "x"]).status == 422)
        _ = try await enrolMFA(owner)
        #expect(try await auth("POST", "/v1/auth/mfa/enroll", token: owner.accessToken).status == 409)
    }

    @Test("disabling needs a valid code, is audited, and login is one step again")
    func disable() async throws {
        let owner = try await Session.owner()
        let (totp, _) = try await enrolMFA(owner)
        #expect(try await auth("POST", "/v1/auth/mfa/disable", json: ["code": "000000"], token: owner.accessToken).status == 422)
        #expect(try await auth("POST", "/v1/auth/mfa/disable", json: ["code": nextCode(totp)], token: owner.accessToken).status == 204)
        #expect(try await login(owner.email, owner.password).string("accessToken") != nil)
        let log = try await auth("GET", "/v1/admin/audit-log?action=mfa.", token: owner.accessToken)
        let actions = Set((log.json["items"] as? [[String: Any]] ?? []).compactMap { $0["action"] as? String })
        #expect(actions == ["mfa.enabled", "mfa.disabled", "mfa.disable_failed"])
    }
}
