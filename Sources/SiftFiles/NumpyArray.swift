import Foundation

/// A NumPy array in memory: a dtype, a shape and raw little-endian C-order bytes.
public struct NumpyArray: Sendable, Equatable {
    public enum DType: String, Sendable, CaseIterable {
        case uint8 = "|u1", int8 = "|i1", bool = "|b1"
        case int16 = "<i2", int32 = "<i4", int64 = "<i8", uint16 = "<u2", uint32 = "<u4", uint64 = "<u8"
        case float32 = "<f4", float64 = "<f8"

        public var byteSize: Int {
            switch self {
            case .uint8, .int8, .bool: return 1
            case .int16, .uint16: return 2
            case .int32, .uint32, .float32: return 4
            case .int64, .uint64, .float64: return 8
            }
        }

        /// Accepts the spellings NumPy writes ("<f4", "|u1", "u1", "=f4" …).
        init?(descr: String) {
            if let exact = DType(rawValue: descr) { self = exact; return }
            guard let kind = descr.last(where: { $0.isLetter }), let size = descr.last?.wholeNumberValue else {
                return nil
            }
            let bigEndian = descr.hasPrefix(">")
            if bigEndian && size > 1 { return nil }
            let match = DType.allCases.first { $0.rawValue.hasSuffix("\(kind)\(size)") }
            guard let match else { return nil }
            self = match
        }
    }

    public var dtype: DType
    public var shape: [Int]
    public var bytes: [UInt8]

    public init(dtype: DType, shape: [Int], bytes: [UInt8]) {
        precondition(bytes.count == shape.reduce(1, *) * dtype.byteSize, "byte count disagrees with shape")
        self.dtype = dtype
        self.shape = shape
        self.bytes = bytes
    }

    public init(float32 values: [Float], shape: [Int]) {
        self.init(dtype: .float32, shape: shape, bytes: values.withUnsafeBytes { [UInt8]($0) })
    }

    public init(float64 values: [Double], shape: [Int]) {
        self.init(dtype: .float64, shape: shape, bytes: values.withUnsafeBytes { [UInt8]($0) })
    }

    public init(int32 values: [Int32], shape: [Int]) {
        self.init(dtype: .int32, shape: shape, bytes: values.withUnsafeBytes { [UInt8]($0) })
    }

    public init(uint8 values: [UInt8], shape: [Int]) {
        self.init(dtype: .uint8, shape: shape, bytes: values)
    }

    public var count: Int { shape.reduce(1, *) }

    /// The values as Float, converting integer and double types.
    public func floats() -> [Float] {
        switch dtype {
        case .float32: return bytes.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        case .float64: return bytes.withUnsafeBytes { $0.bindMemory(to: Double.self).map { Float($0) } }
        default: return integers().map { Float($0) }
        }
    }

    /// The values as Int; floating types must hold whole numbers.
    public func integers() -> [Int] {
        bytes.withUnsafeBytes { raw in
            switch dtype {
            case .uint8, .bool: return raw.map { Int($0) }
            case .int8: return raw.bindMemory(to: Int8.self).map { Int($0) }
            case .int16: return raw.bindMemory(to: Int16.self).map { Int($0) }
            case .uint16: return raw.bindMemory(to: UInt16.self).map { Int($0) }
            case .int32: return raw.bindMemory(to: Int32.self).map { Int($0) }
            case .uint32: return raw.bindMemory(to: UInt32.self).map { Int($0) }
            case .int64: return raw.bindMemory(to: Int64.self).map { Int($0) }
            case .uint64: return raw.bindMemory(to: UInt64.self).map { Int(truncatingIfNeeded: $0) }
            case .float32: return raw.bindMemory(to: Float.self).map { Int($0) }
            case .float64: return raw.bindMemory(to: Double.self).map { Int($0) }
            }
        }
    }

    // MARK: - .npy format 1.0 / 2.0

    static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]

    public static func read(_ path: String) throws -> NumpyArray {
        try parse(FileBytes.read(path), path: path)
    }

    /// What an .npy header says: the element type, the shape and where the data start.
    struct Header {
        var dtype: DType
        var shape: [Int]
        var dataStart: Int
    }

    /// The header once `data` holds all of it, or how many bytes it needs before it does; throws for a malformed one.
    static func header(_ data: ArraySlice<UInt8>, path: String) throws -> (header: Header?, needs: Int) {
        let base = data.startIndex
        guard data.count >= 10 else { return (nil, 10) }
        guard Array(data[base..<(base + 6)]) == magic else {
            throw DataError.badFormat(path: path, reason: "missing the \\x93NUMPY magic")
        }
        let major = data[base + 6]
        guard major >= 1 && major <= 3 else {
            throw DataError.badFormat(path: path, reason: "unsupported .npy version \(major)")
        }
        let headerLengthSize = major == 1 ? 2 : 4
        guard data.count >= 8 + headerLengthSize else { return (nil, 8 + headerLengthSize) }
        var headerLength = 0
        for b in 0..<headerLengthSize { headerLength |= Int(data[base + 8 + b]) << (8 * b) }
        let dataStart = 8 + headerLengthSize + headerLength
        guard data.count >= dataStart else { return (nil, dataStart) }
        guard let header = String(bytes: data[(base + 8 + headerLengthSize)..<(base + dataStart)], encoding: .utf8)
        else {
            throw DataError.badFormat(path: path, reason: "header is not text")
        }
        let descr = try headerValue("descr", in: header, path: path)
        let fortran = try headerValue("fortran_order", in: header, path: path)
        let shapeText = try headerValue("shape", in: header, path: path)
        guard let dtype = DType(descr: descr.trimmingCharacters(in: CharacterSet(charactersIn: "'\""))) else {
            throw DataError.badFormat(path: path, reason: "unsupported dtype \(descr)")
        }
        guard fortran == "False" else {
            throw DataError.badFormat(
                path: path, reason: "Fortran-order arrays are not supported; save with np.ascontiguousarray")
        }
        let inner = shapeText.trimmingCharacters(in: CharacterSet(charactersIn: "() "))
        let dims = inner.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let shape = try dims.map { text -> Int in
            guard let v = Int(text), v >= 0 else {
                throw DataError.badFormat(path: path, reason: "bad shape entry '\(text)'")
            }
            return v
        }
        return (Header(dtype: dtype, shape: shape, dataStart: dataStart), dataStart)
    }

    /// The whole length an .npy file's header declares, once `prefix` holds the header: what a compressed
    /// entry (in an .npz) may inflate to.
    public static func declaredLength(_ prefix: ArraySlice<UInt8>, path: String) throws -> Int? {
        guard let header = try header(prefix, path: path).header else { return nil }
        return header.dataStart
            + (try DeclaredSize.payload(
                header.shape, elementSize: header.dtype.byteSize,
                offset: header.dataStart, available: Int.max, path: path))
    }

    public static func parse(_ data: [UInt8], path: String) throws -> NumpyArray {
        let read = try header(data[...], path: path)
        guard let header = read.header else {
            throw DataError.truncated(path: path, expectedBytes: read.needs, actualBytes: data.count)
        }
        let (dtype, shape, dataStart) = (header.dtype, header.shape, header.dataStart)
        let payload = try DeclaredSize.payload(
            shape, elementSize: dtype.byteSize, offset: dataStart, available: data.count, path: path)
        guard data.count == dataStart + payload else {
            throw DataError.badFormat(
                path: path, reason: "\(data.count - dataStart - payload) unexpected trailing bytes")
        }
        return NumpyArray(dtype: dtype, shape: shape, bytes: Array(data[dataStart...]))
    }

    /// Pulls one value out of the header's Python dict literal.
    private static func headerValue(_ key: String, in header: String, path: String) throws -> String {
        guard let keyRange = header.range(of: "'\(key)':") ?? header.range(of: "\"\(key)\":") else {
            throw DataError.badFormat(path: path, reason: "header has no '\(key)'")
        }
        let rest = header[keyRange.upperBound...].drop(while: { $0 == " " })
        if rest.first == "(" {
            guard let close = rest.firstIndex(of: ")") else {
                throw DataError.badFormat(path: path, reason: "unclosed shape tuple")
            }
            return String(rest[...close])
        }
        let end = rest.firstIndex(where: { $0 == "," || $0 == "}" }) ?? rest.endIndex
        return rest[..<end].trimmingCharacters(in: .whitespaces)
    }

    /// The .npy 1.0 encoding: header padded with spaces so the data starts on a 64-byte boundary.
    public func encoded() -> [UInt8] {
        let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '\(dtype.rawValue)', 'fortran_order': False, 'shape': \(shapeText), }"
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        let length = header.utf8.count
        var out = NumpyArray.magic + [1, 0, UInt8(length & 0xFF), UInt8(length >> 8)]
        out += Array(header.utf8)
        out += bytes
        return out
    }

    public func write(to path: String) throws {
        try FileBytes.writeAtomically(encoded(), to: path)
    }
}
