import Foundation
import Mail
import Testing

@testable import Campaigns

@Suite("template pieces")
struct TemplateDomainTests {
    @Test("a line diff keeps common lines and names the removed and added ones in order")
    func lineDiff() {
        let diff = LineDiff(from: "a\nb\nc\nd", to: "a\nc\nx\nd")
        #expect(diff.lines.map { "\($0.op.rawValue)\($0.text)" } == ["=a", "-b", "=c", "+x", "=d"])
        #expect(diff.added == 1 && diff.removed == 1)
        #expect(LineDiff(from: "", to: "").lines == [.init(op: .keep, text: "")])
    }

    @Test("plain text from HTML: blocks become lines, links keep their address, scripts and entities go")
    func plainText() {
        let html = """
            <html><head><title>x</title><style>p {}</style></head><body>
            <h1>Spring  sale</h1><p>Up to 50&nbsp;% off &amp; free <b>shipping</b>.</p>
            <script>alert(1)</script><ul><li>Roses</li><li>Tulips</li></ul>
            <p><a href="https://shop.example/sale">See the offers</a><br>Bye</p></body></html>
            """
        #expect(
            PlainText.from(html: html)
                == "Spring sale\nUp to 50 % off & free shipping.\n\n- Roses\n- Tulips\n\nSee the offers (https://shop.example/sale)\nBye")
    }

    @Test("addresses: normalised when they are addresses, nil when not")
    func addresses() {
        #expect(EmailAddress.normalised(" Grace.Hopper+News@Navy.MIL ") == "grace.hopper+news@navy.mil")
        #expect(EmailAddress.normalised("o'brien@xn--bcher-kva.example") == "o'brien@xn--bcher-kva.example")
        for bad in ["", "@example.com", "a@", "a@example", "a@example.123", "a@exa_mple.com", "a@1.2", "a\"b@example.com"] {
            #expect(EmailAddress.normalised(bad) == nil, "\(bad)")
        }
    }
}
