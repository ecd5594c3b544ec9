#pragma once
// Vectorised float math for the cpu kernels: exp, log, tanh, sigmoid, erf and the exact (erf)
// GELU on whole SIMD vectors, with no libm call, written with GCC/Clang vector extensions so
// that the same code is AVX-512 (16 lanes) where the compiler targets it (-march=native on an
// AVX-512 machine), AVX2 (8 lanes) here, and SSE (4 lanes) elsewhere.
//
// Accuracy, max relative error measured against double-precision libm on AVX2 (the test
// tests/runtime/vec_math_test.cpp asserts these bounds, rounded up, over dense sweeps where the
// result is a normal float): exp 8.5e-8, log 2.2e-7, tanh 1.4e-7, sigmoid 1.7e-7, erf 1.7e-7,
// gelu 8.4e-7 (3.6e-7 in the far negative tail, where 1 + erf would cancel), pow 9.2e-7 for
// bases 0.01..10 and exponents -4..4.
#include <bit>
#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <immintrin.h>
#endif

namespace tensorgraph::vec {

#if defined(__AVX512F__)
inline constexpr int kWidth = 16;
#elif defined(__AVX__)
inline constexpr int kWidth = 8;
#else
inline constexpr int kWidth = 4;
#endif

using VecF = float __attribute__((vector_size(kWidth * sizeof(float))));
using VecI = std::int32_t __attribute__((vector_size(kWidth * sizeof(std::int32_t))));

inline VecF load(const float* p) {
  VecF v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline void store(float* p, VecF v) {
  std::memcpy(p, &v, sizeof v);
}
// Broadcasts (intrinsics: a lane-by-lane fill does not always compile to one broadcast).
inline VecF splat(float x) {
#if defined(__AVX512F__)
  return _mm512_set1_ps(x);
#elif defined(__AVX__)
  return _mm256_set1_ps(x);
#elif defined(__SSE2__)
  return _mm_set1_ps(x);
#else
  VecF v;
  for (int i = 0; i < kWidth; ++i) v[i] = x;
  return v;
#endif
}
inline VecI splat_i(std::int32_t x) {
#if defined(__AVX512F__)
  return reinterpret_cast<VecI>(_mm512_set1_epi32(x));
#elif defined(__AVX__)
  return reinterpret_cast<VecI>(_mm256_set1_epi32(x));
#elif defined(__SSE2__)
  return reinterpret_cast<VecI>(_mm_set1_epi32(x));
#else
  VecI v;
  for (int i = 0; i < kWidth; ++i) v[i] = x;
  return v;
#endif
}
inline VecI as_int(VecF v) {
  return std::bit_cast<VecI>(v);
}
inline VecF as_float(VecI v) {
  return std::bit_cast<VecF>(v);
}
// mask lanes are all-ones or zero (as produced by comparisons)
inline VecF select(VecI mask, VecF a, VecF b) {
  return as_float((mask & as_int(a)) | (~mask & as_int(b)));
}
inline VecF abs(VecF x) {
  return as_float(as_int(x) & splat_i(0x7FFFFFFF));
}
inline VecF copysign(VecF magnitude, VecF sign) {
  return as_float((as_int(magnitude) & splat_i(0x7FFFFFFF)) | (as_int(sign) & splat_i(INT32_MIN)));
}
inline VecF min(VecF a, VecF b) {
  return select(a < b, a, b);
}
inline VecF max(VecF a, VecF b) {
  return select(a > b, a, b);
}

// a * b + c, fused where the ISA has FMA.
inline VecF fmadd(VecF a, VecF b, VecF c) {
#if defined(__AVX512F__)
  return _mm512_fmadd_ps(a, b, c);
#elif defined(__FMA__)
  return _mm256_fmadd_ps(a, b, c);
#else
  return a * b + c;
#endif
}

inline VecF sqrt(VecF x) {
#if defined(__AVX512F__)
  return _mm512_sqrt_ps(x);
#elif defined(__AVX__)
  return _mm256_sqrt_ps(x);
#elif defined(__SSE2__)
  return _mm_sqrt_ps(x);
#else
  VecF r;
  for (int i = 0; i < kWidth; ++i) r[i] = __builtin_sqrtf(x[i]);
  return r;
#endif
}

namespace detail {
template <std::size_t N>
inline VecF horner(VecF x, const float (&c)[N]) {
  VecF r = splat(c[0]);
  for (std::size_t i = 1; i < N; ++i) r = fmadd(r, x, splat(c[i]));
  return r;
}
}  // namespace detail

// e^x. Overflow gives inf, NaN stays NaN, results below the normal range underflow gradually.
inline VecF exp(VecF x) {
  // e^r on [-ln2/2, ln2/2], Chebyshev fit of degree 6 (abs error 2e-9).
  static constexpr float kPoly[] = {0.0013941108433972674f,
                                    0.008375126398153335f,
                                    0.04166635289677516f,
                                    0.16666415514653277f,
                                    0.5000000047117757f,
                                    1.000000037716214f,
                                    1.0f};
  const VecF xc = min(max(x, splat(-104.0f)), splat(88.72283935546875f));
  const VecF magic = splat(12582912.0f);  // 1.5 * 2^23: adding it rounds to an integer
  const VecF n = (xc * splat(1.4426950408889634f) + magic) - magic;
  VecF r = fmadd(n, splat(-0.693359375f), xc);  // Cody-Waite: ln2 = hi + lo
  r = fmadd(n, splat(2.12194440e-4f), r);
  const VecF p = detail::horner(r, kPoly);
  // 2^n as two normal factors, so that n from -150 to 128 needs no special case.
  const VecI ni = __builtin_convertvector(n, VecI);
  const VecI n1 = ni >> 1;
  const VecI n2 = ni - n1;
  const VecF s1 = as_float((n1 + 127) << 23);
  const VecF s2 = as_float((n2 + 127) << 23);
  VecF result = p * s1 * s2;
  result = select(x > splat(88.72283935546875f), splat(__builtin_inff()), result);
  return select(x != x, x, result);
}

// Natural logarithm: log(0) = -inf, negative gives NaN, inf stays inf.
inline VecF log(VecF x) {
  // Subnormals: scale into the normal range first.
  const VecI tiny = x < splat(1.17549435e-38f);
  const VecF xs = select(tiny, x * splat(8388608.0f), x);  // 2^23
  const VecI bits = as_int(xs);
  VecI e = ((bits >> 23) & 0xFF) - 127;
  e = e - (tiny & 23);
  VecF m = as_float((bits & 0x7FFFFF) | 0x3F800000);  // [1, 2)
  const VecI big = m > splat(1.41421356f);
  m = select(big, m * splat(0.5f), m);
  e = e + (big & 1);
  // log(m) = 2 atanh(s), s = (m - 1) / (m + 1), |s| <= 0.1716: series to s^9 (error < 4e-10).
  const VecF s = (m - splat(1.0f)) / (m + splat(1.0f));
  const VecF s2 = s * s;
  static constexpr float kSeries[] = {1.0f / 9, 1.0f / 7, 1.0f / 5, 1.0f / 3, 1.0f};
  const VecF log_m = splat(2.0f) * s * detail::horner(s2, kSeries);
  const VecF ef = __builtin_convertvector(e, VecF);
  VecF result = fmadd(ef, splat(0.693359375f), fmadd(ef, splat(-2.12194440e-4f), log_m));
  result = select(x == splat(0.0f), splat(-__builtin_inff()), result);
  result = select(x < splat(0.0f), splat(__builtin_nanf("")), result);
  result = select(x == splat(__builtin_inff()), x, result);
  return select(x != x, x, result);
}

inline VecF tanh(VecF x) {
  // |x| < 0.625: x * P(x^2), Chebyshev fit of tanh(x)/x (abs error 4e-9); else 1 - 2/(e^2|x|+1).
  static constexpr float kPoly[] = {-0.005657135184380392f, 0.02058819145458637f,
                                    -0.05372010765662894f,  0.1333111405568977f,
                                    -0.3333325986294753f,   0.9999999960227217f};
  const VecF a = abs(x);
  const VecF small = x * detail::horner(x * x, kPoly);
  const VecF large = splat(1.0f) - splat(2.0f) / (exp(a + a) + splat(1.0f));
  return select(a < splat(0.625f), small, copysign(large, x));
}

inline VecF sigmoid(VecF x) {
  return splat(1.0f) / (splat(1.0f) + exp(-x));
}

namespace detail {
// erf(z)/z as a polynomial in z^2 on [0, 1] (abs error 1.2e-9).
inline constexpr float kErfSmall[] = {
    7.875875062685488e-05f, -0.000801686428716587f, 0.005189087423433974f, -0.026854212010626412f,
    0.11283594715160218f,   -0.37612626666720334f,  1.1283791658483509f};
// z erfc(z) e^(z^2) as a polynomial in 1/z on [1/9.5, 1] (abs error 6e-9).
inline constexpr float kErfcLarge[] = {
    0.1092176315386409f,   -0.7077724013957627f,  1.984864033269492f,      -3.083555308440382f,
    2.7237076167228698f,   -1.0370278654058669f,  -0.40602096413301086f,   0.5949215442066491f,
    -0.03715344663860727f, -0.27748592814100376f, -0.0003096144473233658f, 0.5641982821229117f};

// erfc(z) for z >= 1 given e^(-z^2) computed by the caller.
inline VecF erfc_large(VecF z, VecF exp_minus_z2) {
  const VecF v = max(splat(1.0f) / z, splat(1.0f / 9.5f));
  return exp_minus_z2 * v * horner(v, kErfcLarge);
}

// e^(-x^2 * scale) with x^2 split into hi + lo (FMA), so that large |x| keep full precision.
inline VecF exp_minus_square(VecF x, float scale) {
  const VecF hi = x * x;
  const VecF lo = fmadd(x, x, -hi);
  return exp(hi * splat(-scale)) * (splat(1.0f) - lo * splat(scale));
}
}  // namespace detail

inline VecF erf(VecF x) {
  const VecF z = abs(x);
  const VecF small = z * detail::horner(z * z, detail::kErfSmall);
  const VecF large = splat(1.0f) - detail::erfc_large(z, detail::exp_minus_square(z, 1.0f));
  return copysign(select(z < splat(1.0f), small, large), x);
}

// GELU, exact form x * Phi(x) = x/2 * erfc(-x/sqrt(2)), computed without cancellation for x < 0.
inline VecF gelu(VecF x) {
  const VecF z = abs(x) * splat(0.70710678118654752f);
  const VecF erf_small = z * detail::horner(z * z, detail::kErfSmall);
  const VecF phi_small = splat(0.5f) + splat(0.5f) * copysign(erf_small, x);
  const VecF half_erfc = splat(0.5f) * detail::erfc_large(z, detail::exp_minus_square(x, 0.5f));
  const VecF phi_large = select(x < splat(0.0f), half_erfc, splat(1.0f) - half_erfc);
  return x * select(z < splat(1.0f), phi_small, phi_large);
}

// d/dx gelu(x) = Phi(x) + x phi(x) with phi(x) = e^(-x^2/2) / sqrt(2 pi) (the backward of GELU).
inline VecF gelu_derivative(VecF x) {
  const VecF z = abs(x) * splat(0.70710678118654752f);
  const VecF e = detail::exp_minus_square(x, 0.5f);
  const VecF erf_small = z * detail::horner(z * z, detail::kErfSmall);
  const VecF phi_small = splat(0.5f) + splat(0.5f) * copysign(erf_small, x);
  const VecF half_erfc = splat(0.5f) * detail::erfc_large(z, e);
  const VecF phi_large = select(x < splat(0.0f), half_erfc, splat(1.0f) - half_erfc);
  const VecF cdf = select(z < splat(1.0f), phi_small, phi_large);
  return fmadd(x, e * splat(0.39894228040143268f), cdf);
}

// a^b with C's pow semantics for the common cases: negative bases with integral exponents, zero
// bases, b == 0 gives 1.
inline VecF pow(VecF a, VecF b) {
  const VecF magnitude = exp(b * log(abs(a)));
  const VecI bi = __builtin_convertvector(b, VecI);
  const VecI integral = __builtin_convertvector(bi, VecF) == b;
  const VecI odd = integral & ((bi & 1) == 1);
  VecF result = select(odd, -magnitude, magnitude);
  result = select((a < splat(0.0f)) & ~integral, splat(__builtin_nanf("")), result);
  result = select(a >= splat(0.0f), magnitude, result);
  return select(b == splat(0.0f), splat(1.0f), result);
}

// Scalar convenience wrappers (for tests and tails): evaluate one lane.
#define TG_VEC_SCALAR(fn)             \
  inline float fn##_scalar(float x) { \
    return fn(splat(x))[0];           \
  }
TG_VEC_SCALAR(exp)
TG_VEC_SCALAR(log)
TG_VEC_SCALAR(tanh)
TG_VEC_SCALAR(sigmoid)
TG_VEC_SCALAR(erf)
TG_VEC_SCALAR(gelu)
TG_VEC_SCALAR(gelu_derivative)
#undef TG_VEC_SCALAR

}  // namespace tensorgraph::vec
