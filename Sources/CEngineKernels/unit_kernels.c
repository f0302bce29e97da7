#include "unit_kernels.h"
#include "vectors.h"

// As in column_kernels.c: a·b is rounded before c is added, or these would not give the column passes' bits.
#pragma STDC FP_CONTRACT OFF

// The sums take eight units at a time, one running sum each, so that eight independent adds are in flight
// while every unit's own sum still runs from its first column to its last. The elementwise passes take
// eight columns of a row at a time as one vector, then the last few one by one: the same arithmetic either way.

SIFT_CLONES
void sift_unit_squared_deviations(ptrdiff_t units, ptrdiff_t width, ptrdiff_t stride, const float *x,
                                  const float *mean, float *sums) {
    ptrdiff_t u = 0;
    for (; u + 8 <= units; u += 8) {
        float s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
        for (ptrdiff_t c = 0; c < width; c++)
            for (int e = 0; e < 8; e++) {
                float d = x[(u + e) * stride + c] - mean[u + e];
                s[e] += d * d;
            }
        for (int e = 0; e < 8; e++) sums[u + e] = s[e];
    }
    for (; u < units; u++) {
        float s = 0;
        for (ptrdiff_t c = 0; c < width; c++) {
            float d = x[u * stride + c] - mean[u];
            s += d * d;
        }
        sums[u] = s;
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
    ptrdiff_t u = 0;
    for (; u + 8 <= units; u += 8) {
        float sb[8] = {0, 0, 0, 0, 0, 0, 0, 0}, sg[8] = {0, 0, 0, 0, 0, 0, 0, 0};
        for (ptrdiff_t c = 0; c < width; c++)
            for (int e = 0; e < 8; e++) {
                const ptrdiff_t i = (u + e) * stride + c;
                sb[e] += dy[i];
                sg[e] += dy[i] * normalized[i];
            }
        for (int e = 0; e < 8; e++) {
            grad_beta[u + e] = sb[e];
            grad_gamma[u + e] = sg[e];
        }
    }
    for (; u < units; u++) {
        float sb = 0, sg = 0;
        for (ptrdiff_t c = 0; c < width; c++) {
            sb += dy[u * stride + c];
            sg += dy[u * stride + c] * normalized[u * stride + c];
        }
        grad_beta[u] = sb;
        grad_gamma[u] = sg;
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
