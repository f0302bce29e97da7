import CZeroMQ
import Foundation
import Synchronization

/// The security handshakes of one socket, as libzmq's socket monitor reports them over an inproc pair.
///
/// A handshake that fails never reaches the application as a message: without this, a worker whose
/// key the coordinator refuses would wait forever, and the coordinator could not log a plain client.
package final class SocketMonitor {
    package enum Event: Equatable, Sendable {
        case succeeded
        /// The ZAP handler refused the peer's credentials; `status` is its answer (400 for a key not allowed).
        case refusedCredentials(status: Int)
        /// The peers do not agree on a mechanism (one uses CURVE, the other not) or broke the protocol.
        case protocolError(code: Int)
        case failed(errno: Int)

        /// What went wrong, for a log line; nil for a handshake that succeeded.
        package var problem: String? {
            switch self {
            case .succeeded: return nil
            case .refusedCredentials(let status): return "its CURVE key was refused (ZAP status \(status))"
            case .protocolError(let code) where code == Int(ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH):
                return "one side uses CURVE and the other does not"
            case .protocolError(let code):
                return "the security handshake broke the protocol (code 0x\(String(code, radix: 16)))"
            case .failed(let errno): return "the security handshake failed: \(String(cString: strerror(Int32(errno))))"
            }
        }
    }

    private let socket: ZeroMQSocket
    /// Numbers the monitors' inproc addresses, which must be unique in the process.
    private static let counter = Mutex(0)

    package init(watching target: ZeroMQSocket, context: ZeroMQContext) throws {
        let number = Self.counter.withLock { value in
            value += 1
            return value
        }
        let address = "inproc://sift-monitor-\(getpid())-\(number)"
        let events =
            ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL
            | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL
        guard zmq_socket_monitor(target.handle, address, events) == 0 else {
            throw ZeroMQError("socket_monitor", endpoint: address)
        }
        socket = try ZeroMQSocket(context, kind: .pair)
        try socket.connect(address)
    }

    package var pollable: ZeroMQSocket { socket }

    /// The events that have arrived, without waiting.
    package func events() throws -> [Event] {
        var events: [Event] = []
        // Each event is two frames: 2 bytes of event id and 4 of value (native order), then the endpoint.
        while let message = try socket.receive(timeout: 0), let head = message.frames.first, head.count >= 6 {
            let id = head.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 0, as: UInt16.self) }
            let value = Int(head.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 2, as: UInt32.self) })
            switch Int32(id) {
            case ZMQ_EVENT_HANDSHAKE_SUCCEEDED: events.append(.succeeded)
            case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH: events.append(.refusedCredentials(status: value))
            case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL: events.append(.protocolError(code: value))
            default: events.append(.failed(errno: value))
            }
        }
        return events
    }
}
