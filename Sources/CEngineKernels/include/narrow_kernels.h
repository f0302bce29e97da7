// The input gradient of a dense layer with few outputs (an output layer of ten classes, say) whose input
// arrives feature-major from a sparse layer below. At such shapes OpenBLAS spends most of its time packing:
// on 512 → 10 at batch 128 its product and the transpose to feature-major took 40 µs, this kernel 15 µs
// (AVX-512) or 21 µs (eight-float build), one core of a Sapphire Rapids-class Xeon.
#ifndef SIFT_NARROW_KERNELS_H
#define SIFT_NARROW_KERNELS_H

#include <stddef.h>

/// grad_input_t[i · stride + b] = Σ_{o < outputs} weights[i · outputs + o] · grad_z_t[o · rows + b], added in
/// order of o from +0, for i < fan_in and b < rows; the columns from rows to stride are left as they are.
/// `grad_z_t` is the pre-activations' gradient with one row of `rows` floats per unit.
void sift_narrow_input_gradient(ptrdiff_t fan_in, ptrdiff_t outputs, const float *weights, const float *grad_z_t,
                                ptrdiff_t rows, ptrdiff_t stride, float *grad_input_t);

/// Its eight-float build, whatever the CPU; where the CPU runs AVX-512 the one above takes sixteen floats at
/// a time and gives these bits. Tests compare the two.
void sift_narrow_input_gradient_eight_wide(ptrdiff_t fan_in, ptrdiff_t outputs, const float *weights,
                                           const float *grad_z_t, ptrdiff_t rows, ptrdiff_t stride, float *grad_input_t);

#endif
