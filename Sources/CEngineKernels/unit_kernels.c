#include "unit_kernels.h"
#include "vectors.h"

// As in column_kernels.c: a·b is rounded before c is added, or these would not give the column passes' bits.
#pragma STDC FP_CONTRACT OFF

// The sums take eight units at a time: eight columns of each unit's row as one vector, transposed so that
// each vector holds one column of the eight units, then added in column order to a vector of their eight
// sums. So every unit's sum still runs from its first column to its last, as a row-major column sum does,
// with eight sums in flight. Columns past the last whole group of eight are added one by one, and units
// past the last whole group of eight one at a time. The elementwise passes take eight columns of a row at a
// time as one vector, then the last few one by one: the same arithmetic either way.

SIFT_CLONES
void sift_row_sums(ptrdiff_t units, const float *x, ptrdiff_t width, ptrdiff_t stride, float *sums) {
    const ptrdiff_t whole = width / 8 * 8;
    ptrdiff_t u = 0;
    for (; u + 8 <= units; u += 8) {
        f8 s = SPLAT8(0.0f);
#define VALUES(e, c) LOAD8(x + (u + (e)) * stride + (c))
        SUM_EIGHT_ROWS(s, whole, VALUES)
#undef VALUES
        for (int e = 0; e < 8; e++) {
            float sum = s[e];
            for (ptrdiff_t c = whole; c < width; c++) sum += x[(u + e) * stride + c];
            sums[u + e] = sum;
        }
    }
    for (; u < units; u++) {
        float sum = 0;
        for (ptrdiff_t c = 0; c < width; c++) sum += x[u * stride + c];
        sums[u] = sum;
    }
}

SIFT_CLONES
void sift_unit_squared_deviations(ptrdiff_t units, ptrdiff_t width, ptrdiff_t stride, const float *x,
                                  const float *mean, float *sums) {
    const ptrdiff_t whole = width / 8 * 8;
    ptrdiff_t u = 0;
    for (; u + 8 <= units; u += 8) {
        f8 s = SPLAT8(0.0f);
#define SQUARES(e, c) ({ f8 d = LOAD8(x + (u + (e)) * stride + (c)) - SPLAT8(mean[u + (e)]); d * d; })
        SUM_EIGHT_ROWS(s, whole, SQUARES)
#undef SQUARES
        for (int e = 0; e < 8; e++) {
            float sum = s[e];
            for (ptrdiff_t c = whole; c < width; c++) {
                float d = x[(u + e) * stride + c] - mean[u + e];
                sum += d * d;
            }
            sums[u + e] = sum;
        }
    }
    for (; u < units; u++) {
        float sum = 0;
        for (ptrdiff_t c = 0; c < width; c++) {
            float d = x[u * stride + c] - mean[u];
            sum += d * d;
        }
        sums[u] = sum;
    }
}

SIFT_CLONES
void sift_batch_norm_forward_by_unit(ptrdiff_t units, ptrdiff_t width, ptrdiff_t stride, const float *x,
                                     const float *mean, const float *inverse_std, const float *gamma,
                                     const float *beta, float *normalized, float *y) {
    for (ptrdiff_t u = 0; u < units; u++) {
        const float m = mean[u], inv = inverse_std[u], g = gamma[u], b = beta[u];
        const float *row = x + u * stride;
        float *xhat = normalized + u * stride, *out = y + u * stride;
        ptrdiff_t c = 0;
        for (; c + 8 <= width; c += 8) {
            f8 v = (LOAD8(row + c) - SPLAT8(m)) * SPLAT8(inv);
            STORE8(xhat + c, v);
            STORE8(out + c, SPLAT8(g) * v + SPLAT8(b));
        }
        for (; c < width; c++) {
            float v = (row[c] - m) * inv;
            xhat[c] = v;
            out[c] = g * v + b;
        }
    }
}

SIFT_CLONES
void sift_batch_norm_parameter_gradients_by_unit(ptrdiff_t units, ptrdiff_t width, ptrdiff_t stride,
                                                 const float *dy, const float *normalized, float *grad_beta,
                                                 float *grad_gamma) {
    const ptrdiff_t whole = width / 8 * 8;
    ptrdiff_t u = 0;
    for (; u + 8 <= units; u += 8) {
        f8 sb = SPLAT8(0.0f), sg = SPLAT8(0.0f);
#define GRADIENTS(e, c) LOAD8(dy + (u + (e)) * stride + (c))
#define PRODUCTS(e, c) (LOAD8(dy + (u + (e)) * stride + (c)) * LOAD8(normalized + (u + (e)) * stride + (c)))
        SUM_EIGHT_ROWS(sb, whole, GRADIENTS)
        SUM_EIGHT_ROWS(sg, whole, PRODUCTS)
#undef GRADIENTS
#undef PRODUCTS
        for (int e = 0; e < 8; e++) {
            float b = sb[e], g = sg[e];
            for (ptrdiff_t c = whole; c < width; c++) {
                const ptrdiff_t i = (u + e) * stride + c;
                b += dy[i];
                g += dy[i] * normalized[i];
            }
            grad_beta[u + e] = b;
            grad_gamma[u + e] = g;
        }
    }
    for (; u < units; u++) {
        float b = 0, g = 0;
        for (ptrdiff_t c = 0; c < width; c++) {
            b += dy[u * stride + c];
            g += dy[u * stride + c] * normalized[u * stride + c];
        }
        grad_beta[u] = b;
        grad_gamma[u] = g;
    }
}

SIFT_CLONES
void sift_batch_norm_input_gradient_by_unit(ptrdiff_t units, ptrdiff_t width, ptrdiff_t stride, const float *dy,
                                            const float *normalized, const float *gamma, const float *inverse_std,
                                            const float *grad_beta, const float *grad_gamma, float *dx) {
    const float n = (float)width;
    for (ptrdiff_t u = 0; u < units; u++) {
        const float scale = gamma[u] * inverse_std[u] / n, gb = grad_beta[u], gg = grad_gamma[u];
        const float *g = dy + u * stride, *xhat = normalized + u * stride;
        float *out = dx + u * stride;
        ptrdiff_t c = 0;
        for (; c + 8 <= width; c += 8) {
            f8 centred = SPLAT8(n) * LOAD8(g + c) - SPLAT8(gb) - LOAD8(xhat + c) * SPLAT8(gg);
            STORE8(out + c, SPLAT8(scale) * centred);
        }
        for (; c < width; c++) out[c] = scale * (n * g[c] - gb - xhat[c] * gg);
    }
}
