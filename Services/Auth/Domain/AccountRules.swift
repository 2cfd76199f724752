import Foundation

/// Pure rules about accounts: email normalisation, the password policy, tenant slugs.
enum AccountRules {
    static let minimumPasswordLength = 10
    /// bcrypt reads only the first 72 bytes: a longer password would be accepted with any
    /// ending, so it is refused rather than silently cut.
    static let maximumPasswordLength = 72

    /// Trimmed and lower-cased: addresses are unique case-insensitively.
    static func normalizedEmail(_ email: String) -> String {
        email.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
    }

    /// A deliberately simple check (RFC 5321 allows far more); the verification email is the real test.
    static func isPlausibleEmail(_ email: String) -> Bool {
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[1].contains("."), !parts[1].hasPrefix("."), !parts[1].hasSuffix(".") else { return false }
        return email.count <= 254 && !email.contains(where: \.isWhitespace)
    }

    /// Why a password is refused, or nil when it is acceptable (NIST SP 800-63B §5.1.1.2:
    /// length and a blocklist, no composition rules).
    static func passwordProblem(_ password: String, email: String) -> String? {
        if password.count < minimumPasswordLength { return "must be at least \(minimumPasswordLength) characters" }
        if password.utf8.count > maximumPasswordLength { return "must be at most \(maximumPasswordLength) bytes" }
        if password.lowercased() == normalizedEmail(email) { return "must not be the email address" }
        if commonPasswords.contains(password.lowercased()) { return "is too common" }
        return nil
    }

    static let commonPasswords: Set<String> = [
        "1234567890", "12345678910", "0123456789", "password12", "password123", "password1234", "qwertyuiop",
        "1q2w3e4r5t", "qwerty1234", "iloveyou12", "abcdefghij", "passw0rd12", "administrator", "letmein123",
        "welcome123", "football12", "1111111111", "0000000000", "qwerty12345", "changeme123", "trustno1234",
        "superman123", "monkey12345", "dragon12345", "sunshine123", "princess123", "baseball123", "asdfghjkl1",
        "zaq12wsxcde", "1qaz2wsx3edc", "password!1", "p@ssw0rd123",
    ]

    /// A URL-safe slug from a tenant name: lower-case letters, digits and dashes.
    static func slug(from name: String) -> String {
        var slug = ""
        for scalar in name.lowercased().folding(options: .diacriticInsensitive, locale: nil).unicodeScalars {
            if CharacterSet.alphanumerics.contains(scalar) && scalar.isASCII {
                slug.unicodeScalars.append(scalar)
            } else if !slug.hasSuffix("-") && !slug.isEmpty {
                slug += "-"
            }
        }
        while slug.hasSuffix("-") { slug.removeLast() }
        let trimmed = String(slug.prefix(40))
        if trimmed.isEmpty { return "tenant" }
        return reservedSlugs.contains(trimmed) ? trimmed + "-tenant" : trimmed
    }

    /// Slugs customers cannot take: the operators' tenant and words that read like ours.
    static let reservedSlugs: Set<String> = ["platform", "admin", "api", "auth", "www", "system"]

    /// What PATCH accepts as a slug: 3–40 of a–z, 0–9 and inner dashes.
    static func isValidSlug(_ slug: String) -> Bool {
        guard (3...40).contains(slug.count), !slug.hasPrefix("-"), !slug.hasSuffix("-") else { return false }
        return slug.allSatisfy { ($0.isASCII && ($0.isLowercase || $0.isNumber)) || $0 == "-" }
    }
}

enum Role: String, Sendable, CaseIterable {
    case owner, admin, member, viewer
}
