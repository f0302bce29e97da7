import ArgumentParser
import Foundation
import SiftWire

struct KeygenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen",
        abstract: "Write a CURVE key pair: NAME.key (secret, mode 0600) and NAME.pub (public).",
        discussion: """
            Make one pair for the coordinator (--curve-secret on it, its .pub as --server-key on workers) and one \
            per worker or group of workers (--curve-secret on them; their .pub lines in the coordinator's --allow file).
            """)

    @Argument(help: "Path and name of the pair, e.g. keys/coordinator.") var name: String

    func run() throws {
        let pair = try CurveKeyPair.generate()
        let secret = "\(name).key", publicFile = "\(name).pub"
        for path in [secret, publicFile] where FileManager.default.fileExists(atPath: path) {
            throw CommandFailure("\(path) exists; refusing to overwrite a key")
        }
        try FileManager.default.createDirectory(
            atPath: (name as NSString).deletingLastPathComponent.isEmpty
                ? "." : (name as NSString).deletingLastPathComponent,
            withIntermediateDirectories: true)
        // Created with mode 0600 in one step, so the secret is never readable by others.
        guard
            FileManager.default.createFile(
                atPath: secret, contents: Data((pair.secretKey + "\n").utf8),
                attributes: [.posixPermissions: 0o600])
        else {
            throw CommandFailure("cannot write the secret key \(secret); is its folder writable?")
        }
        try Data((pair.publicKey + "\n").utf8).write(to: URL(fileURLWithPath: publicFile))
        print("wrote \(secret) (keep it private) and \(publicFile): \(pair.publicKey)")
    }
}

/// Reads a key file: one 40-character Z85 key (blank lines and # comments ignored).
func readKeys(_ path: String, what: String) throws -> [String] {
    guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
        throw CommandFailure("cannot read \(what) \(path)")
    }
    let keys = text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter {
        !$0.isEmpty && !$0.hasPrefix("#")
    }
    for (number, key) in keys.enumerated() where key.utf8.count != 40 {
        throw CommandFailure("\(path): entry \(number + 1) is not a 40-character Z85 key (made by `sift keygen`)")
    }
    guard !keys.isEmpty else { throw CommandFailure("\(path) holds no key") }
    return keys
}

/// Reads a secret key file as ssh reads a private key: refused when others may read it, or when it is the
/// public half of a pair (NAME.pub, or the same key as the NAME.pub beside it), which CURVE would take for
/// a secret key without a word and then fail every handshake.
func readSecretKey(_ path: String) throws -> String {
    let key = try readKeys(path, what: "secret key")[0]
    let stem = (path as NSString).deletingPathExtension
    let sibling = (try? readKeys(stem + ".pub", what: "public key"))?.first
    if path.hasSuffix(".pub") || sibling == key {
        throw CommandFailure(
            "\(path) holds a public key; --curve-secret takes the secret half of the pair (\(stem).key)")
    }
    if let mode = (try? FileManager.default.attributesOfItem(atPath: path))?[.posixPermissions] as? Int,
        mode & 0o077 != 0
    {
        throw CommandFailure(
            "\(path) may be read by other users (mode \(String(mode & 0o777, radix: 8))); a secret key must be private: chmod 600 \(path)"
        )
    }
    return key
}
