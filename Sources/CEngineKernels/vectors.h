// What the kernel files share: eight- and sixteen-float vector types, and the builds that pick AVX2 or
// AVX-512 where the CPU has them.
#ifndef SIFT_VECTORS_H
#define SIFT_VECTORS_H

#include <stdint.h>

// Eight floats: one AVX register, or two SSE ones on the baseline clone. Aligned to a float and
// allowed to alias floats, so any float pointer can be read and written through it.
typedef float f8 __attribute__((vector_size(32), aligned(4), may_alias));
// Sixteen floats: one AVX-512 register, for the kernels that have an AVX-512 build.
typedef float f16 __attribute__((vector_size(64), aligned(4), may_alias));

// Each kernel is compiled for AVX2 with FMA and for the x86-64 baseline; the loader picks
// the first the CPU runs. Other architectures get the single portable build.
#if defined(__x86_64__) && defined(__ELF__)
#define SIFT_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
// A kernel whose sixteen-float form differs from its eight-float one in speed only is also compiled for
// AVX-512 (as a function of its own, SIFT_AVX512) and called where the CPU runs it.
#define SIFT_HAS_AVX512_BUILD 1
// min_vector_width: clang otherwise splits sixteen-float vectors into AVX2 halves, as it tunes for AVX-512 CPUs.
#define SIFT_AVX512 __attribute__((target("arch=x86-64-v4"), min_vector_width(512)))
#define SIFT_CPU_HAS_AVX512() __builtin_cpu_supports("x86-64-v4")
#else
#define SIFT_CLONES
#define SIFT_HAS_AVX512_BUILD 0
#define SIFT_CPU_HAS_AVX512() 0
#endif

#define LOAD8(p) (*(const f8 *)(p))
#define STORE8(p, v) (*(f8 *)(p) = (v))
#define SPLAT8(x) ((f8){x, x, x, x, x, x, x, x})
#define LOAD16(p) (*(const f16 *)(p))
#define STORE16(p, v) (*(f16 *)(p) = (v))
#define SPLAT16(x) ((f16){x, x, x, x, x, x, x, x, x, x, x, x, x, x, x, x})

// Lane masks of a comparison: all ones where it holds.
typedef int32_t i8 __attribute__((vector_size(32), aligned(4), may_alias));

// The ReLU's derivative on eight floats: da where a > 0, +0 elsewhere.
#define RELU_BACKWARD8(da, a) ((f8)((i8)LOAD8(da) & (LOAD8(a) > SPLAT8(0.0f))))

// Transposes eight vectors in place: afterwards v[k] holds lane k of every input vector.
#define TRANSPOSE8(v)                                                                                          \
    do {                                                                                                       \
        f8 t0 = __builtin_shufflevector(v[0], v[1], 0, 8, 1, 9, 4, 12, 5, 13);                                 \
        f8 t1 = __builtin_shufflevector(v[0], v[1], 2, 10, 3, 11, 6, 14, 7, 15);                               \
        f8 t2 = __builtin_shufflevector(v[2], v[3], 0, 8, 1, 9, 4, 12, 5, 13);                                 \
        f8 t3 = __builtin_shufflevector(v[2], v[3], 2, 10, 3, 11, 6, 14, 7, 15);                               \
        f8 t4 = __builtin_shufflevector(v[4], v[5], 0, 8, 1, 9, 4, 12, 5, 13);                                 \
        f8 t5 = __builtin_shufflevector(v[4], v[5], 2, 10, 3, 11, 6, 14, 7, 15);                               \
        f8 t6 = __builtin_shufflevector(v[6], v[7], 0, 8, 1, 9, 4, 12, 5, 13);                                 \
        f8 t7 = __builtin_shufflevector(v[6], v[7], 2, 10, 3, 11, 6, 14, 7, 15);                               \
        f8 u0 = __builtin_shufflevector(t0, t2, 0, 1, 8, 9, 4, 5, 12, 13);                                     \
        f8 u1 = __builtin_shufflevector(t0, t2, 2, 3, 10, 11, 6, 7, 14, 15);                                   \
        f8 u2 = __builtin_shufflevector(t1, t3, 0, 1, 8, 9, 4, 5, 12, 13);                                     \
        f8 u3 = __builtin_shufflevector(t1, t3, 2, 3, 10, 11, 6, 7, 14, 15);                                   \
        f8 u4 = __builtin_shufflevector(t4, t6, 0, 1, 8, 9, 4, 5, 12, 13);                                     \
        f8 u5 = __builtin_shufflevector(t4, t6, 2, 3, 10, 11, 6, 7, 14, 15);                                   \
        f8 u6 = __builtin_shufflevector(t5, t7, 0, 1, 8, 9, 4, 5, 12, 13);                                     \
        f8 u7 = __builtin_shufflevector(t5, t7, 2, 3, 10, 11, 6, 7, 14, 15);                                   \
        v[0] = __builtin_shufflevector(u0, u4, 0, 1, 2, 3, 8, 9, 10, 11);                                      \
        v[4] = __builtin_shufflevector(u0, u4, 4, 5, 6, 7, 12, 13, 14, 15);                                    \
        v[1] = __builtin_shufflevector(u1, u5, 0, 1, 2, 3, 8, 9, 10, 11);                                      \
        v[5] = __builtin_shufflevector(u1, u5, 4, 5, 6, 7, 12, 13, 14, 15);                                    \
        v[2] = __builtin_shufflevector(u2, u6, 0, 1, 2, 3, 8, 9, 10, 11);                                      \
        v[6] = __builtin_shufflevector(u2, u6, 4, 5, 6, 7, 12, 13, 14, 15);                                    \
        v[3] = __builtin_shufflevector(u3, u7, 0, 1, 2, 3, 8, 9, 10, 11);                                      \
        v[7] = __builtin_shufflevector(u3, u7, 4, 5, 6, 7, 12, 13, 14, 15);                                    \
    } while (0)

// Sums f(e, c), the vector of row e's columns c..c+7, over eight feature-major rows into lane e of `acc`,
// from column 0 up to `whole` (a multiple of 8): each group of eight columns is transposed so that every
// vector holds one column of the eight rows, then added in column order. So each row's sum runs from its
// first column to its last, as a row-major column sum does, with eight sums in flight.
#define SUM_EIGHT_ROWS(acc, whole, f)                 \
    for (ptrdiff_t c = 0; c < (whole); c += 8) {      \
        f8 v[8];                                      \
        for (int e = 0; e < 8; e++) v[e] = f(e, c);   \
        TRANSPOSE8(v);                                \
        for (int k = 0; k < 8; k++) acc += v[k];      \
    }

#endif
