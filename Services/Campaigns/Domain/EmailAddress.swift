import Foundation

/// An email address as campaigns keeps it: trimmed and lower-cased (so one person is one
/// subscriber however they typed it), checked against the shape mail systems accept.
enum EmailAddress {
    static let maxLength = 254

    /// The normalised address, or nil when it is not one.
    static func normalised(_ raw: String) -> String? {
        let address = raw.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        guard address.count <= maxLength, address.utf8.count <= maxLength else { return nil }
        let parts = address.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2 else { return nil }
        let (local, domain) = (parts[0], parts[1])
        guard (1...64).contains(local.utf8.count), !local.hasPrefix("."), !local.hasSuffix("."), !local.contains("..") else { return nil }
        let atext = Set("abcdefghijklmnopqrstuvwxyz0123456789!#$%&'*+-/=?^_`{|}~.")
        guard local.allSatisfy({ atext.contains($0) }) else { return nil }
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2 else { return nil }
        let labelCharacters = Set("abcdefghijklmnopqrstuvwxyz0123456789-")
        for label in labels {
            guard (1...63).contains(label.count), label.allSatisfy({ labelCharacters.contains($0) }), !label.hasPrefix("-"), !label.hasSuffix("-")
            else { return nil }
        }
        guard let top = labels.last, top.count >= 2, top.contains(where: \.isLetter) else { return nil }
        return address
    }
}
