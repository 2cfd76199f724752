import Foundation

/// A tenant's brand on the emails the platform renders: shown, never linked to, so a
/// tenant can make security emails look like theirs without touching their links.
struct Branding: Codable, Sendable, Equatable {
    var name: String?
    /// An absolute https URL of an image.
    var logoUrl: String?
    /// `#rrggbb`: the buttons' colour.
    var color: String?

    static let defaultColor = "#1a73e8"

    /// Why each field is refused, by field name; empty when acceptable.
    func problems() -> [(String, String)] {
        var problems: [(String, String)] = []
        if let name, name.trimmingCharacters(in: .whitespaces).isEmpty || name.count > 100 || name.contains(where: \.isNewline) {
            problems.append(("name", "must be 1 to 100 characters on one line"))
        }
        if let logoUrl {
            let url = URLComponents(string: logoUrl)
            if logoUrl.count > 2000 || url?.scheme != "https" || (url?.host ?? "").isEmpty || url?.user != nil {
                problems.append(("logoUrl", "must be an absolute https URL without credentials"))
            }
        }
        if let color, !(color.count == 7 && color.first == "#" && color.dropFirst().allSatisfy(\.isHexDigit)) {
            problems.append(("color", "must look like #1a73e8"))
        }
        return problems
    }

    /// The template variables it provides; the defaults when the tenant set none.
    var variables: [String: String] {
        var values = ["brandColor": color?.lowercased() ?? Self.defaultColor]
        if let name { values["brandName"] = name }
        if let logoUrl { values["brandLogoUrl"] = logoUrl }
        return values
    }
}
