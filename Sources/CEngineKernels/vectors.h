// What the kernel files share: an eight-float vector type and the build that picks AVX2 where the CPU has it.
#ifndef SIFT_VECTORS_H
#define SIFT_VECTORS_H

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

#define LOAD8(p) (*(const f8 *)(p))
#define STORE8(p, v) (*(f8 *)(p) = (v))
#define SPLAT8(x) ((f8){x, x, x, x, x, x, x, x})

#endif
