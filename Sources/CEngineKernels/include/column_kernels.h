// Passes over a row-major batch (`rows` rows of `cols` floats, `ld` floats apart, one example a row)
// that work column by column, so a band of columns is a call of its own: the bias gradient and batch
// normalisation. Every column is summed from the first row to the last, and no multiply is fused with an
// add, so the results are bit for bit those of the plain loops.
#ifndef SIFT_COLUMN_KERNELS_H
#define SIFT_COLUMN_KERNELS_H

#include <stddef.h>

/// sums[j] = Σ_r x[r][j].
void sift_column_sums(ptrdiff_t rows, ptrdiff_t cols, ptrdiff_t ld, const float *x, float *sums);

/// sums[j] = Σ_r (x[r][j] − mean[j])².
void sift_column_squared_deviations(ptrdiff_t rows, ptrdiff_t cols, ptrdiff_t ld, const float *x, const float *mean,
                                    float *sums);

/// Batch norm's forward pass from its statistics: normalized = (x − mean)·inverse_std, y = γ·normalized + β.
void sift_batch_norm_forward(ptrdiff_t rows, ptrdiff_t cols, ptrdiff_t ld, const float *x, const float *mean,
                             const float *inverse_std, const float *gamma, const float *beta, float *normalized,
                             float *y);

/// Batch norm's parameter gradients: grad_beta[j] = Σ_r dy[r][j], grad_gamma[j] = Σ_r dy[r][j]·normalized[r][j].
void sift_batch_norm_parameter_gradients(ptrdiff_t rows, ptrdiff_t cols, ptrdiff_t ld, const float *dy,
                                         const float *normalized, float *grad_beta, float *grad_gamma);

/// Batch norm's input gradient, with n = rows:
/// dx = γ·inverse_std/n · (n·dy − grad_beta − normalized·grad_gamma).
void sift_batch_norm_input_gradient(ptrdiff_t rows, ptrdiff_t cols, ptrdiff_t ld, const float *dy,
                                    const float *normalized, const float *gamma, const float *inverse_std,
                                    const float *grad_beta, const float *grad_gamma, float *dx);

#endif
