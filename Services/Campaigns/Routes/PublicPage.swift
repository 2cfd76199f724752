import Foundation
import Hummingbird
import NIOCore

/// The pages people reach from campaign emails without a login (unsubscribe, preferences,
/// confirmations): plain HTML, never cached, never indexed.
enum PublicPage {
    static func response(_ title: String, _ body: String) -> Response {
        let html = """
            <!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">\
            <meta name="robots" content="noindex"><title>\(title)</title></head><body>\(body)</body></html>
            """
        return Response(
            status: .ok, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(string: html)))
    }
}
