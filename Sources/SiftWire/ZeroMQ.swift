import CZeroMQ
import Foundation

/// A libzmq failure, with the call and the endpoint it concerned.
package struct ZeroMQError: Error, CustomStringConvertible, Equatable {
    package var operation: String
    package var code: Int32
    package var endpoint: String?

    init(_ operation: String, endpoint: String? = nil) {
        self.operation = operation
        code = zmq_errno()
        self.endpoint = endpoint
    }

    package var description: String {
        "zmq \(operation)\(endpoint.map { " \($0)" } ?? "") failed: \(String(cString: zmq_strerror(code))) (errno \(code))"
    }
}

/// One libzmq context per process; sockets borrow it. `@unchecked` because it holds a C pointer: libzmq
/// documents contexts as thread-safe (sockets are not, and are not Sendable).
package final class ZeroMQContext: @unchecked Sendable {
    let handle: UnsafeMutableRawPointer

    /// `maximumSockets` above libzmq's default of 1,023 is for processes that open thousands of sockets
    /// (the simulated cluster); it must be set before the first socket.
    package init(maximumSockets: Int32? = nil) {
        handle = zmq_ctx_new()
        if let maximumSockets { zmq_ctx_set(handle, ZMQ_MAX_SOCKETS, maximumSockets) }
    }

    deinit { zmq_ctx_term(handle) }
}

/// A ZeroMQ socket sending and receiving multipart messages of byte frames.
/// Not thread-safe, as libzmq sockets are not: one owner thread per socket.
package final class ZeroMQSocket {
    package enum Kind {
        case router, dealer, reply, pair

        var raw: Int32 {
            switch self {
            case .router: return ZMQ_ROUTER
            case .dealer: return ZMQ_DEALER
            case .reply: return ZMQ_REP
            case .pair: return ZMQ_PAIR
            }
        }
    }

    let handle: UnsafeMutableRawPointer
    /// Held so the context outlives its sockets: terminating a context waits for them to close.
    private let context: ZeroMQContext
    private var closed = false

    package init(_ context: ZeroMQContext, kind: Kind) throws {
        guard let socket = zmq_socket(context.handle, kind.raw) else { throw ZeroMQError("socket") }
        handle = socket
        self.context = context
        try set(ZMQ_LINGER, 0)
        // Every socket refuses parts past the wire's ceiling before buffering them; the coordinator lowers it to its sweep's.
        try set(ZMQ_MAXMSGSIZE, int64: Int64(WireMessage.maxBytes))
    }

    deinit { close() }

    package func close() {
        guard !closed else { return }
        closed = true
        zmq_close(handle)
    }

    package func set(_ option: Int32, _ value: Int32) throws {
        var v = value
        guard zmq_setsockopt(handle, option, &v, MemoryLayout<Int32>.size) == 0 else {
            throw ZeroMQError("setsockopt \(option)")
        }
    }

    package func set(_ option: Int32, int64 value: Int64) throws {
        var v = value
        guard zmq_setsockopt(handle, option, &v, MemoryLayout<Int64>.size) == 0 else {
            throw ZeroMQError("setsockopt \(option)")
        }
    }

    package func set(_ option: Int32, bytes: [UInt8]) throws {
        let status = bytes.withUnsafeBytes { zmq_setsockopt(handle, option, $0.baseAddress, $0.count) }
        guard status == 0 else { throw ZeroMQError("setsockopt \(option)") }
    }

    package func set(_ option: Int32, string: String) throws {
        try set(option, bytes: Array(string.utf8))
    }

    package func bind(_ endpoint: String) throws {
        guard zmq_bind(handle, endpoint) == 0 else { throw ZeroMQError("bind", endpoint: endpoint) }
    }

    package func connect(_ endpoint: String) throws {
        guard zmq_connect(handle, endpoint) == 0 else { throw ZeroMQError("connect", endpoint: endpoint) }
    }

    /// The endpoint actually bound (resolves port 0 and wildcards).
    package var lastEndpoint: String {
        var buffer = [CChar](repeating: 0, count: 256)
        var size = buffer.count
        zmq_getsockopt(handle, ZMQ_LAST_ENDPOINT, &buffer, &size)
        return String(cString: buffer)
    }

    /// Sends all frames as one message. Throws on failure (e.g. EHOSTUNREACH for a gone ROUTER peer).
    /// Unless `waiting`, a peer whose queue is full (it does not read) is an error (EAGAIN), not a wait:
    /// a server must not block on one peer.
    package func send(_ frames: [[UInt8]], waiting: Bool = true) throws {
        for (index, frame) in frames.enumerated() {
            // Once the first frame is queued, libzmq queues the rest of the message whatever the limit.
            let flags = (index < frames.count - 1 ? ZMQ_SNDMORE : 0) | (waiting || index > 0 ? 0 : ZMQ_DONTWAIT)
            let sent = frame.withUnsafeBytes { zmq_send(handle, $0.baseAddress, $0.count, flags) }
            guard sent >= 0 else { throw ZeroMQError("send") }
        }
    }

    /// Waits up to `timeout` milliseconds for a message; nil if none came.
    /// At most `maxFrames` frames and `maxBytes` in all are kept: the rest of an oversized message is read and dropped.
    package func receive(timeout: Int, maxFrames: Int = 64, maxBytes: Int = 1 << 30) throws -> ReceivedMessage? {
        var item = zmq_pollitem_t(socket: handle, fd: 0, events: Int16(ZMQ_POLLIN), revents: 0)
        let ready = zmq_poll(&item, 1, timeout)
        guard ready >= 0 else {
            if zmq_errno() == EINTR { return nil }
            throw ZeroMQError("poll")
        }
        guard ready > 0 else { return nil }
        var received = ReceivedMessage(maxFrames: maxFrames, maxBytes: maxBytes)
        while true {
            var message = zmq_msg_t()
            zmq_msg_init(&message)
            defer { zmq_msg_close(&message) }
            guard zmq_msg_recv(&message, handle, 0) >= 0 else { throw ZeroMQError("recv") }
            // On a ROUTER the first part is the routing id, made locally: the metadata rides on the parts after it.
            if received.userID == nil, let id = zmq_msg_gets(&message, "User-Id") {
                received.userID = String(cString: id)
            }
            received.take(size: zmq_msg_size(&message)) { size in
                Array(UnsafeRawBufferPointer(start: zmq_msg_data(&message)!, count: size))
            }
            if zmq_msg_more(&message) == 0 { break }
        }
        return received
    }
}

/// A received multipart message, taken in part by part within a frame and a byte limit; `truncated` when it
/// broke either.
package struct ReceivedMessage: Sendable {
    package private(set) var frames: [[UInt8]] = []
    package private(set) var truncated = false
    /// The peer's identity as the ZAP handler vouched for it (under CURVE: its public key), if any.
    package var userID: String?
    private let maxFrames: Int, maxBytes: Int
    private var bytes = 0

    /// An empty message that will keep at most `maxFrames` parts holding at most `maxBytes` together.
    package init(maxFrames: Int, maxBytes: Int) {
        self.maxFrames = maxFrames
        self.maxBytes = maxBytes
    }

    /// Takes the next part, `size` bytes long: kept (its bytes copied by `copy`) while within the limits;
    /// past either, dropped uncopied and the message marked truncated.
    package mutating func take(size: Int, _ copy: (Int) -> [UInt8]) {
        bytes += size
        if frames.count < maxFrames && bytes <= maxBytes {
            frames.append(copy(size))
        } else {
            truncated = true
        }
    }
}

/// The socket options Sift sets, named.
package enum ZeroMQOption {
    /// A ROUTER reports a send to a gone peer as an error instead of dropping it silently.
    package static let routerMandatory = ZMQ_ROUTER_MANDATORY
    /// The largest message part a peer may send; a peer that sends a larger one is disconnected
    /// before the part is buffered.
    package static let maximumMessageSize = ZMQ_MAXMSGSIZE
    /// How many whole messages are queued from one peer before libzmq stops reading its connection.
    package static let receiveQueueLength = ZMQ_RCVHWM
    /// How long a closed socket keeps trying to send what is queued (0: drop it at once).
    package static let linger = ZMQ_LINGER
}

extension ZeroMQSocket {
    /// Waits up to `timeout` ms until any of `sockets` has a message; returns which do.
    package static func poll(_ sockets: [ZeroMQSocket], timeout: Int) throws -> [Bool] {
        var items = sockets.map { zmq_pollitem_t(socket: $0.handle, fd: 0, events: Int16(ZMQ_POLLIN), revents: 0) }
        let ready = zmq_poll(&items, Int32(items.count), timeout)
        guard ready >= 0 else {
            if zmq_errno() == EINTR { return sockets.map { _ in false } }
            throw ZeroMQError("poll")
        }
        return items.map { $0.revents & Int16(ZMQ_POLLIN) != 0 }
    }
}
