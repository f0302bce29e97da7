/// Orders labels as a reader does: runs of digits compare as numbers, so variant-2 comes before variant-10
/// (text order puts variant-1, variant-10, variant-11 first).
package enum NaturalOrder {
    package static func precedes(_ a: String, _ b: String) -> Bool {
        let x = chunks(a), y = chunks(b)
        for (p, q) in zip(x, y) where p != q {
            if let m = p.digits, let n = q.digits {
                // As numbers of any length: fewer significant digits is smaller; then digit by digit.
                let (m0, n0) = (m.drop { $0 == "0" }, n.drop { $0 == "0" })
                if m0.count != n0.count { return m0.count < n0.count }
                if m0 != n0 { return m0 < n0 }
                return m.count < n.count
            }
            return p.text < q.text
        }
        return x.count < y.count
    }

    private struct Chunk: Equatable {
        var text: Substring
        var digits: Substring? { text.first?.isASCIIDigit == true ? text : nil }
    }

    private static func chunks(_ s: String) -> [Chunk] {
        var result: [Chunk] = []
        var start = s.startIndex
        while start < s.endIndex {
            let isDigit = s[start].isASCIIDigit
            let end = s[start...].firstIndex { $0.isASCIIDigit != isDigit } ?? s.endIndex
            result.append(Chunk(text: s[start..<end]))
            start = end
        }
        return result
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}
