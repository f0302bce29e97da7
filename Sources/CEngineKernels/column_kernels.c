#include "column_kernels.h"
#include "vectors.h"

// The Swift loops these replace round a·b before adding c; so must these (clang honours this pragma),
// or the files of every batch-norm run would change.
#pragma STDC FP_CONTRACT OFF

// Rows are `ld` floats apart, so a caller may hand a kernel a band of columns (x + first column).
// Each kernel walks the rows in order and, within a row, eight columns at a time as one vector, then
// the last few one by one. A column's arithmetic is the same in either form, so vectors change only the speed.

SIFT_CLONES
void sift_column_sums(ptrdiff_t rows, ptrdiff_t cols, ptrdiff_t ld, const float *x, float *sums) {
    for (ptrdiff_t j = 0; j < cols; j++) sums[j] = 0;
    for (ptrdiff_t r = 0; r < rows; r++) {
        const float *row = x + r * ld;
        ptrdiff_t j = 0;
        for (; j + 8 <= cols; j += 8) STORE8(sums + j, LOAD8(sums + j) + LOAD8(row + j));
        for (; j < cols; j++) sums[j] += row[j];
    }
}

SIFT_CLONES
void sift_column_squared_deviations(ptrdiff_t rows, ptrdiff_t cols, ptrdiff_t ld, const float *x, const float *mean,
                                    float *sums) {
    for (ptrdiff_t j = 0; j < cols; j++) sums[j] = 0;
    for (ptrdiff_t r = 0; r < rows; r++) {
        const float *row = x + r * ld;
        ptrdiff_t j = 0;
        for (; j + 8 <= cols; j += 8) {
            f8 d = LOAD8(row + j) - LOAD8(mean + j);
            STORE8(sums + j, LOAD8(sums + j) + d * d);
        }
        for (; j < cols; j++) {
            float d = row[j] - mean[j];
            sums[j] += d * d;
        }
    }
}

SIFT_CLONES
void sift_batch_norm_forward(ptrdiff_t rows, ptrdiff_t cols, ptrdiff_t ld, const float *x, const float *mean,
                             const float *inverse_std, const float *gamma, const float *beta, float *normalized,
                             float *y) {
    for (ptrdiff_t r = 0; r < rows; r++) {
        const ptrdiff_t o = r * ld;
        ptrdiff_t j = 0;
        for (; j + 8 <= cols; j += 8) {
            f8 v = (LOAD8(x + o + j) - LOAD8(mean + j)) * LOAD8(inverse_std + j);
            STORE8(normalized + o + j, v);
            STORE8(y + o + j, LOAD8(gamma + j) * v + LOAD8(beta + j));
        }
        for (; j < cols; j++) {
            float v = (x[o + j] - mean[j]) * inverse_std[j];
            normalized[o + j] = v;
            y[o + j] = gamma[j] * v + beta[j];
        }
    }
}

SIFT_CLONES
void sift_batch_norm_parameter_gradients(ptrdiff_t rows, ptrdiff_t cols, ptrdiff_t ld, const float *dy,
                                         const float *normalized, float *grad_beta, float *grad_gamma) {
    for (ptrdiff_t j = 0; j < cols; j++) grad_beta[j] = grad_gamma[j] = 0;
    for (ptrdiff_t r = 0; r < rows; r++) {
        const ptrdiff_t o = r * ld;
        ptrdiff_t j = 0;
        for (; j + 8 <= cols; j += 8) {
            f8 g = LOAD8(dy + o + j);
            STORE8(grad_beta + j, LOAD8(grad_beta + j) + g);
            STORE8(grad_gamma + j, LOAD8(grad_gamma + j) + g * LOAD8(normalized + o + j));
        }
        for (; j < cols; j++) {
            grad_beta[j] += dy[o + j];
            grad_gamma[j] += dy[o + j] * normalized[o + j];
        }
    }
}

SIFT_CLONES
void sift_batch_norm_input_gradient(ptrdiff_t rows, ptrdiff_t cols, ptrdiff_t ld, const float *dy,
                                    const float *normalized, const float *gamma, const float *inverse_std,
                                    const float *grad_beta, const float *grad_gamma, float *dx) {
    const float n = (float)rows;
    const f8 n8 = SPLAT8(n);
    for (ptrdiff_t r = 0; r < rows; r++) {
        const ptrdiff_t o = r * ld;
        ptrdiff_t j = 0;
        for (; j + 8 <= cols; j += 8) {
            f8 scale = LOAD8(gamma + j) * LOAD8(inverse_std + j) / n8;
            f8 centred = n8 * LOAD8(dy + o + j) - LOAD8(grad_beta + j) - LOAD8(normalized + o + j) * LOAD8(grad_gamma + j);
            STORE8(dx + o + j, scale * centred);
        }
        for (; j < cols; j++)
            dx[o + j] = gamma[j] * inverse_std[j] / n * (n * dy[o + j] - grad_beta[j] - normalized[o + j] * grad_gamma[j]);
    }
}
