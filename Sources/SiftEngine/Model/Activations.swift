/// A batch of activations, or of their gradients, in one of the two layouts the layers pass between them.
enum Activations {
    /// One row per example: rows × units, as BLAS and batch norm read them.
    case rowMajor(Matrix)
    /// One row per unit, the batch along the row as `SparseWeights.Layout` lays it out: what the sparse
    /// kernels read, kept between a sparse layer and its neighbour so that no transpose is needed.
    case featureMajor(Matrix)
}
