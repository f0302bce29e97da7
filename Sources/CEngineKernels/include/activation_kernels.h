// The ReLU and its derivative over `count` floats, eight at a time. They give the bits of the Swift
// expressions they replace, max(z, 0) and (a > 0 ? da : 0): +0 where the unit is off, NaN kept.
#ifndef SIFT_ACTIVATION_KERNELS_H
#define SIFT_ACTIVATION_KERNELS_H

#include <stddef.h>

/// a = max(z, 0), as Swift's max: 0 when 0 ≥ z (so −0 and negatives give +0), z otherwise (NaN stays NaN).
void sift_relu(const float *z, float *a, ptrdiff_t count);

/// dz = da where a > 0, +0 elsewhere.
void sift_relu_backward(const float *da, const float *a, float *dz, ptrdiff_t count);

#endif
