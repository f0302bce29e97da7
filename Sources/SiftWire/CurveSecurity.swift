import CZeroMQ
import Foundation

// CURVE encryption and authentication (ZeroMQ RFC 26 and 27): key pairs, the socket options that
// turn a socket into a CURVE server or client, and the ZAP handler that admits allow-listed keys.
// The transport (ZeroMQ.swift) knows nothing of it.

extension ZeroMQSocket {
    /// Makes this socket a CURVE server with `secretKey` (Z85): clients must know its public key.
    package func makeCurveServer(secretKey: String) throws {
        try set(ZMQ_CURVE_SERVER, 1)
        try set(ZMQ_CURVE_SECRETKEY, string: secretKey)
    }

    /// Makes this socket a CURVE client of the server with `serverKey`, authenticating with its own key pair.
    package func makeCurveClient(serverKey: String, keys: CurveKeyPair) throws {
        try set(ZMQ_CURVE_SERVERKEY, string: serverKey)
        try set(ZMQ_CURVE_PUBLICKEY, string: keys.publicKey)
        try set(ZMQ_CURVE_SECRETKEY, string: keys.secretKey)
    }
}

/// A CURVE key pair in Z85 text (40 characters each).
package struct CurveKeyPair: Sendable, Equatable {
    package var publicKey: String
    package var secretKey: String

    /// A fresh key pair from libzmq (needs libzmq built with libsodium, as Debian's is).
    package static func generate() throws -> CurveKeyPair {
        var publicKey = [CChar](repeating: 0, count: 41), secretKey = [CChar](repeating: 0, count: 41)
        guard zmq_curve_keypair(&publicKey, &secretKey) == 0 else { throw ZeroMQError("curve_keypair") }
        return CurveKeyPair(publicKey: String(cString: publicKey), secretKey: String(cString: secretKey))
    }

    /// The pair belonging to a secret key.
    package init(secretKey: String) throws {
        var publicKey = [CChar](repeating: 0, count: 41)
        guard secretKey.utf8.count == 40, zmq_curve_public(&publicKey, secretKey) == 0 else {
            throw ZeroMQError("curve_public: not a 40-character Z85 secret key")
        }
        self.init(publicKey: String(cString: publicKey), secretKey: secretKey)
    }

    package init(publicKey: String, secretKey: String) {
        self.publicKey = publicKey
        self.secretKey = secretKey
    }

    /// Z85 text of a raw 32-byte key, as ZAP hands client keys over.
    package static func z85(_ key: [UInt8]) -> String {
        var text = [CChar](repeating: 0, count: 41)
        _ = key.withUnsafeBufferPointer { zmq_z85_encode(&text, $0.baseAddress, 32) }
        return String(cString: text)
    }
}

/// A ZAP handler (ZeroMQ RFC 27) admitting CURVE clients whose public key is on an allow-list.
/// It must exist before the server socket binds; the owner calls `handle` when it has a request.
package final class ZAPAllowList {
    let socket: ZeroMQSocket
    package let allowed: Set<String>
    let log: (String) -> Void

    package init(_ context: ZeroMQContext, allowed: Set<String>, log: @escaping (String) -> Void) throws {
        socket = try ZeroMQSocket(context, kind: .reply)
        try socket.bind("inproc://zeromq.zap.01")
        self.allowed = allowed
        self.log = log
    }

    package var pollable: ZeroMQSocket { socket }

    /// Answers one pending authentication request.
    package func handle() throws {
        guard let request = try socket.receive(timeout: 0), request.frames.count >= 6 else { return }
        let frames = request.frames
        let requestID = frames[1], address = String(decoding: frames[3], as: UTF8.self)
        let mechanism = String(decoding: frames[5], as: UTF8.self)
        var ok = false, key = "?"
        if mechanism == "CURVE", frames.count >= 7, frames[6].count == 32 {
            key = CurveKeyPair.z85(frames[6])
            ok = allowed.contains(key)
        }
        if !ok { log("refused a connection from \(address): \(mechanism) key \(key) is not on the allow-list") }
        try socket.send([
            Array("1.0".utf8), requestID, Array((ok ? "200" : "400").utf8),
            Array((ok ? "OK" : "key not allowed").utf8), Array((ok ? key : "").utf8), [],
        ])
    }
}
