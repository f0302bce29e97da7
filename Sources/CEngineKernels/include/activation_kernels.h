// The ReLU and its derivative over contiguous floats, eight at a time. They give the bits of the Swift
// loops they replace (`max(z, 0)` and `a > 0 ? da : 0`), which Swift compiles for baseline x86-64 only.
#ifndef SIFT_ACTIVATION_KERNELS_H
#define SIFT_ACTIVATION_KERNELS_H

#include <stddef.h>

/// a[i] = 0 where 0 ≥ z[i], z[i] elsewhere: −0 becomes +0 and NaN stays NaN, as with Swift's max(z, 0).
void sift_relu(ptrdiff_t count, const float *z, float *a);

/// dz[i] = da[i] where a[i] > 0, +0 elsewhere (NaN in a included).
void sift_relu_backward(ptrdiff_t count, const float *da, const float *a, float *dz);

#endif
