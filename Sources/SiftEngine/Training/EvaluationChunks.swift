import SiftData

/// A labelled image set cut into the chunks every evaluation of a level uses, copied once in the layout the
/// network's first layer reads. A level evaluates the test set after every epoch and again for its ablation;
/// copying (and on the sparse path transposing) every image anew each time was a third of a sparse level's
/// evaluation time. Chunks hold up to 1,000 images, so every evaluation of one network does the same arithmetic.
final class EvaluationChunks {
    struct Chunk {
        /// The images: row-major, or feature-major in the sparse path's padded layout.
        let input: Activations
        /// The chunk's first image's index in the set, and its number of images.
        let start: Int
        let rows: Int
    }

    let chunks: [Chunk]
    let labels: [Int32]

    static let chunkRows = 1000

    /// `featureMajor`: whether the first layer reads its input feature-major (`Network.firstLayerReadsFeatureMajor`).
    init(images: LabelledImages, featureMajor: Bool) {
        let size = images.shape.size
        labels = images.labels
        chunks = stride(from: 0, to: images.count, by: Self.chunkRows).map { start in
            let rows = min(Self.chunkRows, images.count - start)
            let input = Matrix(rows: rows, cols: size)
            images.features.withUnsafeBufferPointer {
                input.pointer.update(from: $0.baseAddress! + start * size, count: rows * size)
            }
            guard featureMajor else { return Chunk(input: .rowMajor(input), start: start, rows: rows) }
            let inputT = Matrix(rows: size, cols: SparseWeights.Layout(rows: rows).stride)
            BLAS.transpose(input, into: inputT)
            return Chunk(input: .featureMajor(inputT), start: start, rows: rows)
        }
    }

    /// Fraction of the images whose predicted class (a list per chunk, from `predict(index, chunk)`) is their label.
    func accuracy(_ predict: (Int, Chunk) -> [Int]) -> Double {
        guard !labels.isEmpty else { return 0 }
        let correct = chunks.enumerated().reduce(0) { sum, indexed in
            let (index, chunk) = indexed, labels = labels[chunk.start..<(chunk.start + chunk.rows)]
            return sum + zip(predict(index, chunk), labels).reduce(0) { $0 + (Int32($1.0) == $1.1 ? 1 : 0) }
        }
        return Double(correct) / Double(labels.count)
    }
}
