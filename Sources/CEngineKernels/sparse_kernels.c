#include "sparse_kernels.h"
#include "vectors.h"

// How many entries ahead the kernels prefetch. Index arrays carry PREFETCH_AHEAD spare entries at
// their end so the look-ahead never reads past them.
#define PREFETCH_AHEAD SIFT_INDEX_PADDING

// Batch columns one sweep over the blocks covers: a training batch of 128 in one go.
#define COLUMN_CHUNK (4 * SIFT_PANEL_WIDTH)

// One segment's sum over `lanes` vectors of W floats (W = 8 or 16) of the batch, starting at column `c`.
// Each vector is its own chain of FMAs; eight of them hide the FMA latency. A column's chain is the same
// whatever W is: it starts from the bias (or the sum so far) and adds the segment's entries in order.
#define ACCUMULATE_PANEL(W, lanes)                                                       \
    do {                                                                                 \
        f##W s[lanes];                                                                   \
        for (int l = 0; l < lanes; l++)                                                  \
            s[l] = first ? SPLAT##W(start) : LOAD##W(o + c + W * l);                     \
        for (int32_t e = e0; e < e1; e++) {                                              \
            const float w = values[indirect ? value_index[e] : e];                       \
            const float *x = source + (ptrdiff_t)sources[e] * stride + c;                \
            if (look_ahead) {                                                            \
                const float *ahead = source + (ptrdiff_t)sources[e + PREFETCH_AHEAD] * stride + c; \
                for (int l = 0; l < lanes; l += 16 / W) __builtin_prefetch(ahead + W * l); \
            }                                                                            \
            for (int l = 0; l < lanes; l++) s[l] += w * LOAD##W(x + W * l);              \
        }                                                                                \
        for (int l = 0; l < lanes; l++) STORE##W(o + c + W * l, s[l]);                   \
    } while (0)

// One row's columns of the chunk: panels of eight vectors, then one of four, then (for W = 16) one of two.
#define ACCUMULATE_CHUNK(W)                                                              \
    do {                                                                                 \
        ptrdiff_t c = chunk;                                                             \
        for (; c + 8 * W <= chunk_end; c += 8 * W) ACCUMULATE_PANEL(W, 8);               \
        if (c + 4 * W <= chunk_end) {                                                    \
            ACCUMULATE_PANEL(W, 4);                                                      \
            c += 4 * W;                                                                  \
        }                                                                                \
        if (W == 16 && c < chunk_end) ACCUMULATE_PANEL(W, 2);                            \
    } while (0)

// The body of sift_accumulate_rows, inlined once per combination of `indirect` (values through
// value_index), `look_ahead` (prefetch source rows) and `wide` (sixteen-float vectors), so none is tested
// inside the loops. One block's source rows come from the nearest caches, where prefetching only costs load
// slots; a single block spans all of them, and they come from L2 in an order the hardware cannot guess.
static inline __attribute__((always_inline)) void
accumulate_rows(ptrdiff_t blocks, ptrdiff_t count, ptrdiff_t first_row, ptrdiff_t end_row, const int32_t *starts,
                const int32_t *sources, const int32_t *value_index, const float *values, const float *initial,
                const float *source, float *out, ptrdiff_t width, ptrdiff_t stride, const int indirect,
                const int look_ahead, const int wide) {
    // Wide batches (evaluation, the paper's 1,000) go COLUMN_CHUNK columns at a time, so a block's rows stay as
    // small as in training. An index of one block (few survivors a unit) goes whole rows at a time instead: its
    // cost is then the output's stores, which run contiguously (at batch 1,000 and 1 % density, 10 % of a step).
    // A column's sum is the same either way.
    const ptrdiff_t chunk_columns = blocks == 1 ? width : COLUMN_CHUNK;
    for (ptrdiff_t chunk = 0; chunk < width; chunk += chunk_columns) {
        const ptrdiff_t chunk_end = chunk + chunk_columns < width ? chunk + chunk_columns : width;
        for (ptrdiff_t b = 0; b < blocks; b++) {
            const int first = b == 0;
            const int32_t *segment = starts + b * count;
            for (ptrdiff_t r = first_row; r < end_row; r++) {
                const int32_t e0 = segment[r], e1 = segment[r + 1];
                if (e0 == e1 && !first) continue;
                float *o = out + r * stride;
                const float start = initial ? initial[r] : 0.0f;
                if (wide) ACCUMULATE_CHUNK(16);
                else ACCUMULATE_CHUNK(8);
            }
        }
    }
}

#define ACCUMULATE_ROWS_ARGUMENTS                                                                                  \
    ptrdiff_t blocks, ptrdiff_t count, ptrdiff_t first_row, ptrdiff_t end_row, const int32_t *starts,             \
        const int32_t *sources, const int32_t *value_index, const float *values, const float *initial,           \
        const float *source, float *out, ptrdiff_t width, ptrdiff_t stride
#define ACCUMULATE_ROWS(indirect, look_ahead, wide)                                                               \
    accumulate_rows(blocks, count, first_row, end_row, starts, sources, value_index, values, initial, source, out, \
                    width, stride, indirect, look_ahead, wide)
// Picks the inlined body for the index at hand.
#define ACCUMULATE_ROWS_FOR_INDEX(wide)                                    \
    do {                                                                   \
        if (value_index) {                                                 \
            if (blocks == 1) ACCUMULATE_ROWS(1, 1, wide);                  \
            else ACCUMULATE_ROWS(1, 0, wide);                              \
        } else {                                                           \
            if (blocks == 1) ACCUMULATE_ROWS(0, 1, wide);                  \
            else ACCUMULATE_ROWS(0, 0, wide);                              \
        }                                                                  \
    } while (0)

SIFT_CLONES
void sift_accumulate_rows_eight_wide(ACCUMULATE_ROWS_ARGUMENTS) { ACCUMULATE_ROWS_FOR_INDEX(0); }

#if SIFT_HAS_AVX512_BUILD
SIFT_AVX512 static void accumulate_rows_sixteen_wide(ACCUMULATE_ROWS_ARGUMENTS) { ACCUMULATE_ROWS_FOR_INDEX(1); }
#endif

int sift_has_avx512_kernels(void) { return SIFT_HAS_AVX512_BUILD && SIFT_CPU_HAS_AVX512(); }

void sift_accumulate_rows(ACCUMULATE_ROWS_ARGUMENTS) {
#if SIFT_HAS_AVX512_BUILD
    if (SIFT_CPU_HAS_AVX512()) {
        accumulate_rows_sixteen_wide(blocks, count, first_row, end_row, starts, sources, value_index, values, initial,
                                     source, out, width, stride);
        return;
    }
#endif
    sift_accumulate_rows_eight_wide(blocks, count, first_row, end_row, starts, sources, value_index, values, initial,
                                    source, out, width, stride);
}

// Sums of eight vectors, each reduced to one float: lane e of the result is a_e's sum.
#define REDUCE8(a)                                                                                      \
    ({                                                                                                  \
        f8 p01 = __builtin_shufflevector(a[0], a[1], 0, 8, 2, 10, 4, 12, 6, 14) +                       \
                 __builtin_shufflevector(a[0], a[1], 1, 9, 3, 11, 5, 13, 7, 15);                        \
        f8 p23 = __builtin_shufflevector(a[2], a[3], 0, 8, 2, 10, 4, 12, 6, 14) +                       \
                 __builtin_shufflevector(a[2], a[3], 1, 9, 3, 11, 5, 13, 7, 15);                        \
        f8 p45 = __builtin_shufflevector(a[4], a[5], 0, 8, 2, 10, 4, 12, 6, 14) +                       \
                 __builtin_shufflevector(a[4], a[5], 1, 9, 3, 11, 5, 13, 7, 15);                        \
        f8 p67 = __builtin_shufflevector(a[6], a[7], 0, 8, 2, 10, 4, 12, 6, 14) +                       \
                 __builtin_shufflevector(a[6], a[7], 1, 9, 3, 11, 5, 13, 7, 15);                        \
        f8 q0 = __builtin_shufflevector(p01, p23, 0, 1, 8, 9, 4, 5, 12, 13) +                           \
                __builtin_shufflevector(p01, p23, 2, 3, 10, 11, 6, 7, 14, 15);                          \
        f8 q1 = __builtin_shufflevector(p45, p67, 0, 1, 8, 9, 4, 5, 12, 13) +                           \
                __builtin_shufflevector(p45, p67, 2, 3, 10, 11, 6, 7, 14, 15);                          \
        __builtin_shufflevector(q0, q1, 0, 1, 2, 3, 8, 9, 10, 11) +                                     \
            __builtin_shufflevector(q0, q1, 4, 5, 6, 7, 12, 13, 14, 15);                                \
    })

// Stores one entry's dot product: a descent step on its value, or its gradient.
#define FINISH_ENTRY(k, dot)                                           \
    do {                                                               \
        if (descend) values[k] -= learning_rate * (dot);               \
        else gradient[k] = (dot);                                      \
    } while (0)

// Reduces the sixteen lane sums of each of eight entries (a[e], e < 8) to one float per entry, lane e of the
// result: folded to eight as lane l + lane l + 8, then REDUCE8's tree. Each stage works on two entries' halves
// side by side, so every add is one that REDUCE8 makes on the folded vectors, and the bits are its bits.
#define REDUCE16(a)                                                                                            \
    ({                                                                                                         \
        f16 p[4];                                                                                              \
        for (int e = 0; e < 4; e++)                                                                            \
            p[e] = __builtin_shufflevector(a[e], a[e + 4], 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23) + \
                   __builtin_shufflevector(a[e], a[e + 4], 8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31); \
        f16 q01 = PAIR_SUMS16(p[0], p[1]), q23 = PAIR_SUMS16(p[2], p[3]);                                      \
        f16 r = PAIR_SUMS16(q01, q23);                                                                         \
        __builtin_shufflevector(r, r, 0, 1, 2, 3, 8, 9, 10, 11) + __builtin_shufflevector(r, r, 4, 5, 6, 7, 12, 13, 14, 15); \
    })
// Sums of neighbouring lanes of u and v, interleaved by four: in each group of four lanes, two of u's then two of v's.
#define PAIR_SUMS16(u, v)                                                                                      \
    (__builtin_shufflevector(u, v, 0, 2, 16, 18, 4, 6, 20, 22, 8, 10, 24, 26, 12, 14, 28, 30) +                \
     __builtin_shufflevector(u, v, 1, 3, 17, 19, 5, 7, 21, 23, 9, 11, 25, 27, 13, 15, 29, 31))

// The dot products of `n` entries of one segment (n ≤ 8, constant where inlined), each x[e] against the
// gradient row g, as lane e of the result. Every entry's sum has one fixed order, whatever n, the build or the
// segment around it: sixteen lane sums (lane l takes the columns ≡ l mod 16, in ascending order), folded to
// eight as lane l + lane l + 8, then REDUCE8's tree. So an entry's gradient depends only on its two rows.
// The sixteen-float build keeps an entry's lanes in one vector, the eight-float build in two; both load each
// gradient slice once for all n entries.
static inline __attribute__((always_inline)) void
sampled_dots(const int n, const float *const *x, const float *g, ptrdiff_t width, f8 *dots, const int wide) {
    if (wide) {
        f16 a[8];
        for (int e = 0; e < 8; e++) a[e] = SPLAT16(0.0f);
        for (ptrdiff_t c = 0; c < width; c += 16) {
            const f16 gc = LOAD16(g + c);
            for (int e = 0; e < n; e++) a[e] += LOAD16(x[e] + c) * gc;
        }
        *dots = REDUCE16(a);
        return;
    }
    f8 lo[8], hi[8];
    for (int e = 0; e < n; e++) lo[e] = hi[e] = SPLAT8(0.0f);
    for (ptrdiff_t c = 0; c < width; c += 16) {
        const f8 g0 = LOAD8(g + c), g1 = LOAD8(g + c + 8);
        for (int e = 0; e < n; e++) {
            lo[e] += LOAD8(x[e] + c) * g0;
            hi[e] += LOAD8(x[e] + c + 8) * g1;
        }
    }
    f8 folded[8];
    for (int e = 0; e < 8; e++) folded[e] = e < n ? lo[e] + hi[e] : SPLAT8(0.0f);
    *dots = REDUCE8(folded);
}

// A segment's entries go in whole groups: eight in the sixteen-float build, four in the eight-float one (which
// keeps two vectors an entry in its sixteen registers). The last group is filled up with the rows
// of the index's next entries, valid rows since the index carries SIFT_INDEX_PADDING spare entries, and their
// dot products are dropped. Cheaper than smaller groups for what is left: the group sizes a segment would
// need are a guess for the branch predictor, and each wrong guess costs more than the padding.
static inline __attribute__((always_inline)) void
sampled_gradient(ptrdiff_t blocks, ptrdiff_t columns, ptrdiff_t first_column, ptrdiff_t end_column,
                 const int32_t *starts, const int32_t *rows, const float *input_t, const float *grad_output_t,
                 ptrdiff_t width, ptrdiff_t stride, float *values, float *gradient, float learning_rate, int descend,
                 const int wide) {
    const int group = wide ? 8 : 4;
    for (ptrdiff_t b = 0; b < blocks; b++) {
        const int32_t *segment = starts + b * columns;
        for (ptrdiff_t j = first_column; j < end_column; j++) {
            const float *g = grad_output_t + j * stride;
            const int32_t end = segment[j + 1];
            for (int32_t k = segment[j]; k < end; k += group) {
                const float *x[8];
                for (int e = 0; e < group; e++) x[e] = input_t + (ptrdiff_t)rows[k + e] * stride;
                f8 dots;
                sampled_dots(group, x, g, width, &dots, wide);
                if (group == 8 && end - k >= 8) {
                    // One vector for the whole group, with the bits of FINISH_ENTRY's scalar multiply-add.
                    if (descend) STORE8(values + k, LOAD8(values + k) - SPLAT8(learning_rate) * dots);
                    else STORE8(gradient + k, dots);
                } else {
                    const int32_t n = end - k < group ? end - k : group;
                    for (int e = 0; e < n; e++) FINISH_ENTRY(k + e, dots[e]);
                }
            }
        }
    }
}

#define SAMPLED_GRADIENT_ARGUMENTS                                                                                 \
    ptrdiff_t blocks, ptrdiff_t columns, ptrdiff_t first_column, ptrdiff_t end_column, const int32_t *starts,     \
        const int32_t *rows, const float *input_t, const float *grad_output_t, ptrdiff_t width, ptrdiff_t stride, \
        float *values, float *gradient, float learning_rate, int descend
#define SAMPLED_GRADIENT(wide)                                                                                     \
    sampled_gradient(blocks, columns, first_column, end_column, starts, rows, input_t, grad_output_t, width, stride, \
                     values, gradient, learning_rate, descend, wide)

SIFT_CLONES
void sift_sampled_gradient_eight_wide(SAMPLED_GRADIENT_ARGUMENTS) { SAMPLED_GRADIENT(0); }

#if SIFT_HAS_AVX512_BUILD
SIFT_AVX512 static void sampled_gradient_sixteen_wide(SAMPLED_GRADIENT_ARGUMENTS) { SAMPLED_GRADIENT(1); }
#endif

void sift_sampled_gradient(SAMPLED_GRADIENT_ARGUMENTS) {
#if SIFT_HAS_AVX512_BUILD
    if (SIFT_CPU_HAS_AVX512()) {
        sampled_gradient_sixteen_wide(blocks, columns, first_column, end_column, starts, rows, input_t, grad_output_t,
                                      width, stride, values, gradient, learning_rate, descend);
        return;
    }
#endif
    sift_sampled_gradient_eight_wide(blocks, columns, first_column, end_column, starts, rows, input_t, grad_output_t,
                                     width, stride, values, gradient, learning_rate, descend);
}

// Eight rows at a time, eight columns at a time: the derivative's eight vectors (one per row) are stored,
// then transposed so that each holds one column of the eight rows, and added in column order to a vector
// of the eight rows' sums. The sums are the row-by-row sums of sift_row_sums, bit for bit, with one pass
// over the rows instead of two. Columns past the last whole group of eight up to `width` are added one by one.
SIFT_CLONES
void sift_relu_backward_row_sums(ptrdiff_t count, const float *da, const float *a, float *dz, ptrdiff_t width,
                                 ptrdiff_t stride, float *sums) {
    const ptrdiff_t whole = width / 8 * 8;
    ptrdiff_t r = 0;
    for (; r + 8 <= count; r += 8) {
        const ptrdiff_t o = r * stride;
        f8 s = SPLAT8(0.0f);
#define DERIVATIVE(e, c) ({ f8 d = RELU_BACKWARD8(da + o + (e) * stride + (c), a + o + (e) * stride + (c)); \
                            STORE8(dz + o + (e) * stride + (c), d); d; })
        SUM_EIGHT_ROWS(s, whole, DERIVATIVE)
#undef DERIVATIVE
        for (ptrdiff_t c = whole; c < stride; c += 8)
            for (int e = 0; e < 8; e++) STORE8(dz + o + e * stride + c, RELU_BACKWARD8(da + o + e * stride + c, a + o + e * stride + c));
        for (int e = 0; e < 8; e++) {
            float sum = s[e];
            for (ptrdiff_t t = whole; t < width; t++) sum += dz[o + e * stride + t];
            sums[r + e] = sum;
        }
    }
    for (; r < count; r++) {
        const ptrdiff_t o = r * stride;
        for (ptrdiff_t c = 0; c < stride; c += 8) STORE8(dz + o + c, RELU_BACKWARD8(da + o + c, a + o + c));
        float sum = 0;
        for (ptrdiff_t c = 0; c < width; c++) sum += dz[o + c];
        sums[r] = sum;
    }
}
