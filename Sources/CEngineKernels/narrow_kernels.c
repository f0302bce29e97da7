#include "narrow_kernels.h"
#include "vectors.h"

// Every sum is a single chain of multiply-adds in a fixed order, so the eight- and sixteen-float builds give
// the same bits.

// Input gradient, one input unit at a time: eight vectors of batch columns at a time, each its own chain
// over the outputs, then single vectors; the columns past the last whole vector one by one, in the same order.
#define NARROW_INPUT_GRADIENT(W)                                                                          \
    do {                                                                                                  \
        const ptrdiff_t whole = rows / W * W;                                                             \
        for (ptrdiff_t i = 0; i < fan_in; i++) {                                                          \
            const float *w = weights + i * outputs;                                                       \
            float *out = grad_input_t + i * stride;                                                       \
            ptrdiff_t c = 0;                                                                              \
            for (; c + 8 * W <= whole; c += 8 * W) {                                                      \
                f##W s[8];                                                                                \
                for (int l = 0; l < 8; l++) s[l] = SPLAT##W(0.0f);                                        \
                for (ptrdiff_t o = 0; o < outputs; o++)                                                   \
                    for (int l = 0; l < 8; l++) s[l] += w[o] * LOAD##W(grad_z_t + o * rows + c + W * l); \
                for (int l = 0; l < 8; l++) STORE##W(out + c + W * l, s[l]);                              \
            }                                                                                             \
            for (; c < whole; c += W) {                                                                   \
                f##W s = SPLAT##W(0.0f);                                                                  \
                for (ptrdiff_t o = 0; o < outputs; o++) s += w[o] * LOAD##W(grad_z_t + o * rows + c);    \
                STORE##W(out + c, s);                                                                     \
            }                                                                                             \
            for (; c < rows; c++) {                                                                       \
                float s = 0.0f;                                                                           \
                for (ptrdiff_t o = 0; o < outputs; o++) s += w[o] * grad_z_t[o * rows + c];              \
                out[c] = s;                                                                               \
            }                                                                                             \
        }                                                                                                 \
    } while (0)

#define INPUT_GRADIENT_ARGUMENTS                                                                          \
    ptrdiff_t fan_in, ptrdiff_t outputs, const float *weights, const float *grad_z_t, ptrdiff_t rows,    \
        ptrdiff_t stride, float *grad_input_t

SIFT_CLONES void sift_narrow_input_gradient_eight_wide(INPUT_GRADIENT_ARGUMENTS) { NARROW_INPUT_GRADIENT(8); }
#if SIFT_HAS_AVX512_BUILD
SIFT_AVX512 static void input_gradient_sixteen(INPUT_GRADIENT_ARGUMENTS) { NARROW_INPUT_GRADIENT(16); }
#endif

void sift_narrow_input_gradient(ptrdiff_t fan_in, ptrdiff_t outputs, const float *weights, const float *grad_z_t,
                                ptrdiff_t rows, ptrdiff_t stride, float *grad_input_t) {
#if SIFT_HAS_AVX512_BUILD
    if (SIFT_CPU_HAS_AVX512()) {
        input_gradient_sixteen(fan_in, outputs, weights, grad_z_t, rows, stride, grad_input_t);
        return;
    }
#endif
    sift_narrow_input_gradient_eight_wide(fan_in, outputs, weights, grad_z_t, rows, stride, grad_input_t);
}
