#include "sparse_kernels.h"

// Eight floats: one AVX register, or two SSE ones on the baseline clone. Aligned to a float and
// allowed to alias floats, so any float pointer can be read and written through it.
typedef float f8 __attribute__((vector_size(32), aligned(4), may_alias));

// Each kernel is compiled for AVX2 with FMA and for the x86-64 baseline; the loader picks
// the first the CPU runs. Other architectures get the single portable build.
#if defined(__x86_64__) && defined(__ELF__)
#define SIFT_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define SIFT_CLONES
#endif

// How many entries ahead the kernels prefetch. Index arrays carry PREFETCH_AHEAD spare entries at
// their end so the look-ahead never reads past them.
#define PREFETCH_AHEAD SIFT_INDEX_PADDING

#define LOAD8(p) (*(const f8 *)(p))
#define STORE8(p, v) (*(f8 *)(p) = (v))

SIFT_CLONES
void sift_accumulate_rows(ptrdiff_t count, const int32_t *starts, const int32_t *sources,
                          const int32_t *value_index, const float *values, const float *initial,
                          const float *source, float *out, ptrdiff_t width, ptrdiff_t stride) {
    for (ptrdiff_t column = 0; column < width; column += SIFT_PANEL_WIDTH) {
        const float *base = source + column;
        for (ptrdiff_t r = 0; r < count; r++) {
            float start = initial ? initial[r] : 0.0f;
            f8 s0 = {start, start, start, start, start, start, start, start};
            f8 s1 = s0, s2 = s0, s3 = s0;
            for (int32_t e = starts[r]; e < starts[r + 1]; e++) {
                float w = values[value_index ? value_index[e] : e];
                const float *x = base + (ptrdiff_t)sources[e] * stride;
                // Rows come in no order the hardware can guess: ask for the one PREFETCH_AHEAD entries on.
                const float *ahead = base + (ptrdiff_t)sources[e + PREFETCH_AHEAD] * stride;
                __builtin_prefetch(ahead);
                __builtin_prefetch(ahead + 16);
                s0 += w * LOAD8(x);
                s1 += w * LOAD8(x + 8);
                s2 += w * LOAD8(x + 16);
                s3 += w * LOAD8(x + 24);
            }
            float *o = out + r * stride + column;
            STORE8(o, s0);
            STORE8(o + 8, s1);
            STORE8(o + 16, s2);
            STORE8(o + 24, s3);
        }
    }
}

SIFT_CLONES
void sift_sampled_gradient(ptrdiff_t columns, const int32_t *starts, const int32_t *rows,
                           const float *input_t, const float *grad_output_t, ptrdiff_t width, ptrdiff_t stride,
                           float *values, float *gradient, float learning_rate, int descend) {
    for (ptrdiff_t j = 0; j < columns; j++) {
        const float *g = grad_output_t + j * stride;
        for (int32_t k = starts[j]; k < starts[j + 1]; k++) {
            const float *x = input_t + (ptrdiff_t)rows[k] * stride;
            const float *ahead = input_t + (ptrdiff_t)rows[k + PREFETCH_AHEAD] * stride;
            for (ptrdiff_t b = 0; b < width; b += 16) __builtin_prefetch(ahead + b);
            f8 s0 = {0}, s1 = {0}, s2 = {0}, s3 = {0};
            for (ptrdiff_t b = 0; b < width; b += SIFT_PANEL_WIDTH) {
                s0 += LOAD8(x + b) * LOAD8(g + b);
                s1 += LOAD8(x + b + 8) * LOAD8(g + b + 8);
                s2 += LOAD8(x + b + 16) * LOAD8(g + b + 16);
                s3 += LOAD8(x + b + 24) * LOAD8(g + b + 24);
            }
            f8 s = (s0 + s1) + (s2 + s3);
            float dot = ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
            if (descend) values[k] -= learning_rate * dot;
            else gradient[k] = dot;
        }
    }
}
