import SiftDigest
import Testing

/// The experiment hash and the build identifier are SHA-256; these are the FIPS 180-2 test vectors.
struct SHA256Tests {
    @Test func knownVectors() {
        #expect(SHA256.hash("").hexDigits == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hash("abc").hexDigits == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    @Test func piecewiseUpdatesEqualOneUpdate() {
        let text = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
        var hasher = SHA256()
        hasher.update(String(text.prefix(13)))
        hasher.update(String(text.dropFirst(13)))
        #expect(hasher.finalize().hexDigits == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(SHA256.hash(text) == SHA256.hash(text))
    }
}
