#include "activation_kernels.h"
#include "vectors.h"

SIFT_CLONES
void sift_relu(ptrdiff_t count, const float *z, float *a) {
    ptrdiff_t i = 0;
    for (; i + 8 <= count; i += 8) {
        const f8 v = LOAD8(z + i);
        STORE8(a + i, (f8)((i8)v & ~(SPLAT8(0.0f) >= v)));
    }
    for (; i < count; i++) a[i] = 0.0f >= z[i] ? 0.0f : z[i];
}

SIFT_CLONES
void sift_relu_backward(ptrdiff_t count, const float *da, const float *a, float *dz) {
    ptrdiff_t i = 0;
    for (; i + 8 <= count; i += 8) STORE8(dz + i, RELU_BACKWARD8(da + i, a + i));
    for (; i < count; i++) dz[i] = a[i] > 0.0f ? da[i] : 0.0f;
}
