// Sparse–dense products for masked layers, on feature-major activations: one row per unit,
// the batch along the row, `width` columns (a multiple of SIFT_PANEL_WIDTH, zero padded)
// and `stride` floats from one row to the next.
//
// Entries come in segments: segment s = b·count + r holds the entries of output row r whose
// source rows lie in block b (starts[s]..<starts[s+1]). Blocking the sources keeps the rows one
// pass reads small enough to stay in the nearest caches; with a single block the layout is plain CSR/CSC.
#ifndef SIFT_SPARSE_KERNELS_H
#define SIFT_SPARSE_KERNELS_H

#include <stddef.h>
#include <stdint.h>

/// Batch columns the narrowest pass holds in registers; `width` must be a multiple of it.
#define SIFT_PANEL_WIDTH 32

/// Spare zero entries the caller keeps after the last entry of every index array (`sources`, `rows`),
/// so that the kernels can look ahead without a bounds check.
#define SIFT_INDEX_PADDING 8

/// out[r, ·] = initial[r] + Σ_b Σ_{e in segment (b, r)} v(e) · source[sources[e], ·] for first_row ≤ r < end_row,
/// where v(e) = values[value_index[e]], or values[e] when value_index is NULL; initial may be NULL (0).
/// Each row's arithmetic is the same whatever range it is computed in, so ranges can go to different threads.
void sift_accumulate_rows(ptrdiff_t blocks, ptrdiff_t count, ptrdiff_t first_row, ptrdiff_t end_row,
                          const int32_t *starts, const int32_t *sources,
                          const int32_t *value_index, const float *values, const float *initial,
                          const float *source, float *out, ptrdiff_t width, ptrdiff_t stride);

/// sift_accumulate_rows in eight-float vectors (AVX2, or baseline x86-64) whatever the CPU has. Where the CPU runs
/// AVX-512, sift_accumulate_rows takes sixteen floats at a time and gives these bits; tests compare the two.
void sift_accumulate_rows_eight_wide(ptrdiff_t blocks, ptrdiff_t count, ptrdiff_t first_row, ptrdiff_t end_row,
                                     const int32_t *starts, const int32_t *sources,
                                     const int32_t *value_index, const float *values, const float *initial,
                                     const float *source, float *out, ptrdiff_t width, ptrdiff_t stride);

/// Nonzero when this CPU runs the kernels' AVX-512 build (x86-64-v4).
int sift_has_avx512_kernels(void);

/// For every entry k of segment (b, j) (input rows[k], output j) with first_column ≤ j < end_column:
/// g = input_t[rows[k], ·] · grad_output_t[j, ·]; then values[k] -= learning_rate · g when
/// descend is nonzero, gradient[k] = g otherwise. As above, ranges of j can go to different threads.
/// Each g is summed in one defined order (sixteen lane sums, folded, then a fixed tree: sampled_dots in
/// sparse_kernels.c), the same in every build and whatever the segments, so the builds agree bit for bit.
void sift_sampled_gradient(ptrdiff_t blocks, ptrdiff_t columns, ptrdiff_t first_column, ptrdiff_t end_column,
                           const int32_t *starts, const int32_t *rows,
                           const float *input_t, const float *grad_output_t, ptrdiff_t width, ptrdiff_t stride,
                           float *values, float *gradient, float learning_rate, int descend);

/// The eight-float build of sift_sampled_gradient, whatever the CPU. Where the CPU runs AVX-512,
/// sift_sampled_gradient takes sixteen floats at a time and gives these bits; tests compare the two.
void sift_sampled_gradient_eight_wide(ptrdiff_t blocks, ptrdiff_t columns, ptrdiff_t first_column, ptrdiff_t end_column,
                                      const int32_t *starts, const int32_t *rows,
                                      const float *input_t, const float *grad_output_t, ptrdiff_t width, ptrdiff_t stride,
                                      float *values, float *gradient, float learning_rate, int descend);

/// The ReLU's backward pass on feature-major rows, with the bias gradient in the same pass: for r < count,
/// dz[r · stride + c] = (a > 0 ? da : +0) at every c < stride, and sums[r] = Σ_{c < width} dz[r · stride + c]
/// added up in order of c, the bits of the two passes it replaces. `stride` is a multiple of 8.
void sift_relu_backward_row_sums(ptrdiff_t count, const float *da, const float *a, float *dz, ptrdiff_t width,
                                 ptrdiff_t stride, float *sums);

#endif
