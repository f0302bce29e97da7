import Dispatch
import SiftData

/// Copies the next mini-batch's rows while the current step runs. Gathering 128 scattered
/// images costs about as much as a whole step at a few percent density, so on the sparse
/// path it would otherwise be a good share of the training time.
///
/// Two slots alternate: the step reads one while a background queue fills the other.
/// What lands in a slot depends only on the rows asked for, never on timing.
final class BatchPrefetcher: @unchecked Sendable {
    // Unchecked: a slot is written only by the queue between `fill` and `wait`, and read
    // by the caller only after `wait`; the images are read-only.

    /// One mini-batch: its pixels, one image per row, and its labels. Unchecked for the same reason.
    final class Slot: @unchecked Sendable {
        let input: Matrix
        /// The pixels feature-major, for a first layer on the sparse path; nil when not asked for.
        fileprivate(set) var inputT: Matrix?
        let labels: UnsafeMutableBufferPointer<Int32>

        init(rows: Int, features: Int) {
            input = Matrix(rows: rows, cols: features)
            labels = .allocate(capacity: rows)
            labels.initialize(repeating: 0)
        }

        deinit { labels.deallocate() }
    }

    private let images: LabelledImages
    private let slots: [Slot]
    private let queue = DispatchQueue(label: "sift.batch-prefetch")
    private let pending = DispatchGroup()

    init(images: LabelledImages, rows: Int) {
        self.images = images
        slots = (0..<2).map { _ in Slot(rows: rows, features: images.shape.size) }
    }

    var rows: Int { slots[0].input.rows }

    /// Starts copying the images `indices` (one per row) into the slot for batch number `batch`, and
    /// transposing them as `transposed` lays them out when it is given (the transpose then leaves the step too).
    func fill(batch: Int, indices: ArraySlice<Int>, transposed: SparseWeights.Layout? = nil) {
        let slot = slots[batch % 2]
        queue.async(group: pending) { [images] in
            let d = slot.input.cols
            images.features.withUnsafeBufferPointer { source in
                for (r, i) in indices.enumerated() {
                    (slot.input.pointer + r * d).update(from: source.baseAddress! + i * d, count: d)
                    slot.labels[r] = images.labels[i]
                }
            }
            guard let layout = transposed else {
                slot.inputT = nil
                return
            }
            if slot.inputT?.cols != layout.stride { slot.inputT = Matrix(rows: d, cols: layout.stride) }
            BLAS.transpose(slot.input, into: slot.inputT!)
        }
    }

    /// The slot of batch number `batch`, once its copy has finished.
    func slot(batch: Int) -> Slot {
        pending.wait()
        return slots[batch % 2]
    }
}
