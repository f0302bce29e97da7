/// Sizes that a file's header declares, checked before anything is allocated or indexed: a crafted
/// header must give an error naming the file, never an overflow trap or a huge allocation.
public enum DeclaredSize {
    /// The product of `dimensions` times `elementSize` bytes, if it fits within `available` bytes
    /// after `offset`; otherwise a `DataError` naming `path` (truncated when the size is representable).
    public static func payload(
        _ dimensions: [Int], elementSize: Int, offset: Int, available: Int, path: String
    ) throws -> Int {
        var bytes = elementSize
        for dimension in dimensions {
            let (product, overflow) = bytes.multipliedReportingOverflow(by: dimension)
            guard dimension >= 0, !overflow else {
                throw DataError.badFormat(
                    path: path, reason: "declared dimensions \(dimensions) are larger than any file could hold")
            }
            bytes = product
        }
        let (end, overflow) = offset.addingReportingOverflow(bytes)
        guard !overflow else {
            throw DataError.badFormat(
                path: path, reason: "declared dimensions \(dimensions) are larger than any file could hold")
        }
        guard end <= available else {
            throw DataError.truncated(path: path, expectedBytes: end, actualBytes: available)
        }
        return bytes
    }
}
