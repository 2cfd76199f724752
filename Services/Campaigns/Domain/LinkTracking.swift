import Foundation

/// Tracking in a rendered email: every http(s) link of the HTML goes through the click
/// redirect, and a one-pixel image reports the open. The text part keeps its plain links.
enum LinkTracking {
    /// `click(url)` makes the tracked address of a link; `pixel` is the open image's.
    static func rewrite(_ html: String, pixel: String, click: (String) -> String) -> String {
        var out = ""
        var rest = Substring(html)
        while let attribute = rest.range(of: "href=\"", options: .caseInsensitive) {
            out += rest[..<attribute.upperBound]
            rest = rest[attribute.upperBound...]
            guard let close = rest.firstIndex(of: "\"") else { break }
            let url = String(rest[..<close])
            let decoded = url.replacingOccurrences(of: "&amp;", with: "&")
            // Only web links: mailto:, tel: and anchors stay; so do unsubscribe links, whose
            // click must not count as interest.
            if decoded.lowercased().hasPrefix("http://") || decoded.lowercased().hasPrefix("https://"), !decoded.contains("/v1/campaigns/t/") {
                out += click(decoded).replacingOccurrences(of: "&", with: "&amp;")
            } else {
                out += url
            }
            rest = rest[close...]
        }
        out += rest
        let image = "<img src=\"\(pixel)\" width=\"1\" height=\"1\" alt=\"\" style=\"display:block;border:0\">"
        if let body = out.range(of: "</body>", options: [.caseInsensitive, .backwards]) {
            out.insert(contentsOf: image, at: body.lowerBound)
            return out
        }
        return out + image
    }
}
