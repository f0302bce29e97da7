#include "activation_kernels.h"
#include "vectors.h"

#include <stdint.h>

// Lane masks of a comparison: all ones where it holds.
typedef int32_t i8 __attribute__((vector_size(32), aligned(4), may_alias));

SIFT_CLONES
void sift_relu(const float *z, float *a, ptrdiff_t count) {
    const f8 zero = SPLAT8(0.0f);
    ptrdiff_t i = 0;
    for (; i + 8 <= count; i += 8) {
        f8 v = LOAD8(z + i);
        i8 off = zero >= v;
        STORE8(a + i, (f8)((i8)v & ~off));
    }
    for (; i < count; i++) a[i] = 0.0f >= z[i] ? 0.0f : z[i];
}

SIFT_CLONES
void sift_relu_backward(const float *da, const float *a, float *dz, ptrdiff_t count) {
    const f8 zero = SPLAT8(0.0f);
    ptrdiff_t i = 0;
    for (; i + 8 <= count; i += 8) {
        i8 on = LOAD8(a + i) > zero;
        STORE8(dz + i, (f8)((i8)LOAD8(da + i) & on));
    }
    for (; i < count; i++) dz[i] = a[i] > 0.0f ? da[i] : 0.0f;
}
