// Sums and batch normalisation over feature-major activations: one row per unit, the batch along the first `width`
// floats of each row, rows `stride` floats apart (padding past `width` is neither read nor written). They
// give bit for bit what the column passes of column_kernels.h give on the same batch laid out row-major:
// every unit's sums run over the batch in order, and no multiply is fused with an add. So a sparse layer
// can hand its activations on feature-major through its neighbour's batch norm, with no transpose.
#ifndef SIFT_UNIT_KERNELS_H
#define SIFT_UNIT_KERNELS_H

#include <stddef.h>

/// sums[u] = Σ_{c < width} x[u · stride + c] for u < units, each added up in order of c: the bias gradient and
/// batch norm's mean on feature-major rows.
void sift_row_sums(ptrdiff_t units, const float *x, ptrdiff_t width, ptrdiff_t stride, float *sums);

/// sums[u] = Σ_{c < width} (x[u · stride + c] − mean[u])², added up in order of c.
void sift_unit_squared_deviations(ptrdiff_t units, ptrdiff_t width, ptrdiff_t stride, const float *x,
                                  const float *mean, float *sums);

/// normalized = (x − mean[u])·inverse_std[u], y = γ[u]·normalized + β[u], over each unit's row.
void sift_batch_norm_forward_by_unit(ptrdiff_t units, ptrdiff_t width, ptrdiff_t stride, const float *x,
                                     const float *mean, const float *inverse_std, const float *gamma,
                                     const float *beta, float *normalized, float *y);

/// grad_beta[u] = Σ_c dy[u][c], grad_gamma[u] = Σ_c dy[u][c]·normalized[u][c], in order of c.
void sift_batch_norm_parameter_gradients_by_unit(ptrdiff_t units, ptrdiff_t width, ptrdiff_t stride,
                                                 const float *dy, const float *normalized, float *grad_beta,
                                                 float *grad_gamma);

/// dx = γ·inverse_std/n · (n·dy − grad_beta − normalized·grad_gamma) per unit, with n = width.
void sift_batch_norm_input_gradient_by_unit(ptrdiff_t units, ptrdiff_t width, ptrdiff_t stride, const float *dy,
                                            const float *normalized, const float *gamma, const float *inverse_std,
                                            const float *grad_beta, const float *grad_gamma, float *dx);

#endif
