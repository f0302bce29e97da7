import Foundation
import SiftTestKit
import Testing

/// The pages of docs/ that the code generates stay what the code says.
@Suite struct DocsTests {
    /// docs/config.md is `sift config keys --markdown` under a short header: a key added, removed or given a
    /// new default without the page being regenerated fails here (and so in CI).
    @Test func theConfigPageIsTheKeysTable() throws {
        let keys = try SiftProcess.run(["config", "keys", "--markdown"])
        #expect(keys.status == 0)
        let page = try String(contentsOfFile: "docs/config.md", encoding: .utf8)
        let table = try #require(page.range(of: "| key | default | meaning |"), "docs/config.md has no keys table")
        #expect(
            String(page[table.lowerBound...]) == keys.stdout,
            """
            docs/config.md is out of date: regenerate its table with
            `sift config keys --markdown` (keep the header above the table)
            """)
    }
}
