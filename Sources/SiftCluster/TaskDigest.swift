import SiftDigest

/// SHA-256 over a result's attachments, each length-prefixed so that frame boundaries count.
package enum TaskDigest {
    package static func of(_ attachments: [[UInt8]]) -> String {
        var hasher = SHA256()
        for attachment in attachments {
            var length = UInt64(attachment.count).bigEndian
            withUnsafeBytes(of: &length) { hasher.update($0) }
            hasher.update(attachment)
        }
        return hasher.finalize().hexDigits
    }
}
