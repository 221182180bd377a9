// Branch-free elementary functions that GCC and Clang vectorize inside
// `#pragma omp simd` loops (std::exp, std::tanh and std::erf are libm calls,
// which stay scalar without -ffast-math, and -ffast-math is not an option: NaN
// and Inf must propagate for the gradient-flow diagnostics).
//
// Every function is written as straight-line arithmetic plus selects (a ? b : c
// on values already computed: arithmetic inside one arm of a ?: counts as
// control flow, which keeps GCC from vectorizing for AVX2, where it has no
// masked instructions), so each SIMD lane does the same work; NaN
// propagates through every path and +-Inf give the mathematical limits.
//
//   vexp        Cody-Waite range reduction x = k ln2 + r, |r| <= ln2/2, a
//               Taylor polynomial for e^r - 1 (truncation < 0.1 ulp), and 2^k
//               applied in two halves so that subnormal results are right.
//   vexpm1_neg  e^x - 1 for x <= 0 from the same reduction: 2^k (e^r - 1) + (2^k - 1),
//               no cancellation near 0.
//   vlog1p_unit log(1 + u) for u in [0, 1]: 2 atanh(s), s = u / (2 + u) (or
//               (u - 1) / (u + 3) plus ln 2 above sqrt 2 - 1), |s| <= 0.172.
//   vsigmoid    1 / (1 + e^-x), exactly 0 where e^-x overflows (see below), vexp's
//               reduction with one scaling.
//   vtanh       double: -expm1(-2|x|) / (2 + expm1(-2|x|)) with the sign of x;
//               float: a rational fit on |x| <= 9.5 (see below).
//   normal_cdf  Phi(x) in double from Cephes ndtr.c (Moshier) rational approximations
//               of erf and erfc, given e^{-x^2/2} (GELU's backward needs it too).
// Accuracy (checked in tests against numpy/math): a few ulp.
//
// VGP_MULTIVERSION marks a loop function to be compiled three times (x86-64-v4
// = AVX-512, x86-64-v3 = AVX2 + FMA, and the portable baseline) and chosen once
// at load time for the running CPU (GCC/Clang target_clones + ifunc), so the
// default build stays portable. Results are bitwise stable for a given CPU;
// FMA contraction in the v3/v4 clones may change the last bit between CPUs.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstddef>
#include <cstring>
#include <limits>

#if defined(__x86_64__) && defined(__linux__) && (defined(__GNUC__) || defined(__clang__)) && \
    !defined(VGP_NO_MULTIVERSION)
#define VGP_MULTIVERSION \
  __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define VGP_MULTIVERSION
#endif

namespace vgp::ops::vm {

template <typename T>
struct Bits;
template <>
struct Bits<float> {
  using UInt = std::uint32_t;
  static constexpr int kMantissa = 23;
  static constexpr UInt kBias = 127;
  static constexpr float kMagic = 12582912.0f;  // 1.5 * 2^23
  static constexpr float kExpHi = 89.0f;                // e^89 overflows: clamp bound
  static constexpr float kExpMin = -104.0f;             // below: e^x rounds to 0
  static constexpr float kExpm1Min = -87.0f;            // below: e^x - 1 rounds to -1
  static constexpr float kSigmoidMin = -86.0f;          // below: 1 + e^x rounds to 1
  static constexpr float kLn2Hi = 0.693359375f;          // ln 2 = kLn2Hi + kLn2Lo, kLn2Hi exact
  static constexpr float kLn2Lo = -2.12194440e-4f;
};
template <>
struct Bits<double> {
  using UInt = std::uint64_t;
  static constexpr int kMantissa = 52;
  static constexpr UInt kBias = 1023;
  static constexpr double kMagic = 6755399441055744.0;  // 1.5 * 2^52
  static constexpr double kExpHi = 710.0;
  static constexpr double kExpMin = -746.0;
  static constexpr double kExpm1Min = -708.0;
  static constexpr double kSigmoidMin = -707.0;
  static constexpr double kLn2Hi = 6.93147180369123816490e-01;
  static constexpr double kLn2Lo = 1.90821492927058770002e-10;
};

template <typename T>
inline typename Bits<T>::UInt to_bits(T x) {
  typename Bits<T>::UInt i;
  std::memcpy(&i, &x, sizeof(T));
  return i;
}

template <typename T>
inline T from_bits(typename Bits<T>::UInt u) {
  T x;
  std::memcpy(&x, &u, sizeof(T));
  return x;
}

// Integers live in unsigned types (two's complement, wrapping): the exponent
// arithmetic below never overflows for real inputs, and for NaN inputs, whose
// k is garbage, unsigned wrap-around keeps it defined behaviour.

// 2^i for an integer i (two's complement bits) with a normal result, built in
// the exponent field.
template <typename T>
inline T pow2i(typename Bits<T>::UInt i) {
  using B = Bits<T>;
  return from_bits<T>((i + B::kBias) << B::kMantissa);
}

// c[0] x^(N-1) + c[1] x^(N-2) + ... + c[N-1] by Horner's rule; the loop has a
// constant trip count and is fully unrolled inside the vectorized callers.
template <typename T, std::size_t N>
inline T horner(T x, const T (&c)[N]) {
  T p = c[0];
#pragma GCC unroll 16
  for (std::size_t i = 1; i < N; ++i) p = p * x + c[i];
  return p;
}

// The same with an implicit leading coefficient 1: x^N + c[0] x^(N-1) + ... + c[N-1].
template <typename T, std::size_t N>
inline T horner1(T x, const T (&c)[N]) {
  T p = x + c[0];
#pragma GCC unroll 16
  for (std::size_t i = 1; i < N; ++i) p = p * x + c[i];
  return p;
}

// Taylor coefficients 1/k! of e^r - 1 - r, divided by r^2, highest degree first.
inline constexpr float kExpm1F[] = {1.0f / 5040, 1.0f / 720, 1.0f / 120, 1.0f / 24, 1.0f / 6,
                                    1.0f / 2};
inline constexpr double kExpm1D[] = {1.0 / 6227020800.0, 1.0 / 479001600.0, 1.0 / 39916800.0,
                                     1.0 / 3628800.0,    1.0 / 362880.0,    1.0 / 40320.0,
                                     1.0 / 5040.0,       1.0 / 720.0,       1.0 / 120.0,
                                     1.0 / 24.0,         1.0 / 6.0,         0.5};

// e^r - 1 for |r| <= ln2 / 2 (Taylor series; the first omitted term is below
// 0.1 ulp of the result: r^8/8! for float, r^14/14! for double).
inline float expm1_reduced(float r) { return r + r * r * horner(r, kExpm1F); }
inline double expm1_reduced(double r) { return r + r * r * horner(r, kExpm1D); }

// x = k ln2 + r with k = nearest integer of x / ln2 (|x| < 2^21): returns k as
// an integer and sets r, |r| <= ln2 / 2. Adding 1.5 * 2^mantissa rounds x / ln2
// to an integer in the low bits of the sum, read as an integer without a
// float-to-int conversion (which AVX2 lacks for 64-bit integers). For NaN, r is
// NaN and k some integer: the NaN carries through the polynomial to the result.
template <typename T>
inline typename Bits<T>::UInt reduce(T x, T& r) {
  using B = Bits<T>;
  const T shifted = x * T(1.44269504088896340736) + B::kMagic;
  const T k = shifted - B::kMagic;
  r = (x - k * B::kLn2Hi) - k * B::kLn2Lo;
  return to_bits(shifted) - to_bits(B::kMagic);
}

// a < b ? a : b and a > b ? a : b are minps/maxps, which return their second
// operand when either is NaN: the clamps below keep NaN.
template <typename T>
inline T vexp(T x) {
  using B = Bits<T>;
  T xc = B::kExpHi < x ? B::kExpHi : x;
  xc = B::kExpMin > xc ? B::kExpMin : xc;
  T r;
  const typename B::UInt k = reduce(xc, r);
  // 2^k as 2^k1 2^k2, each normal for every k the clamp allows: subnormal
  // results come out right, and above ln(max) the product overflows to inf.
  // k1 = floor(k / 2) with a logical shift of the non-negative k + 2^11.
  const typename B::UInt k1 = ((k + 2048) >> 1) - 1024;
  return (T(1) + expm1_reduced(r)) * pow2i<T>(k1) * pow2i<T>(k - k1);
}

// e^x - 1 for x <= 0 (positive x are treated as 0).
template <typename T>
inline T vexpm1_neg(T x) {
  using B = Bits<T>;
  T xc = T(0) < x ? T(0) : x;
  xc = B::kExpm1Min > xc ? B::kExpm1Min : xc;
  T r;
  const T s = pow2i<T>(reduce(xc, r));
  return s * expm1_reduced(r) + (s - T(1));
}

// log(1 + u) for u in [0, 1] (and NaN).
template <typename T>
inline T vlog1p_unit(T u) {
  // Above sqrt 2 - 1, log(1 + u) = ln 2 + log((1 + u) / 2): s = (u - 1) / (u + 3).
  const bool high = u > T(0.41421356237309504880);
  const T um1 = u - T(1), up2 = u + T(2), up3 = u + T(3);
  const T s = (high ? um1 : u) / (high ? up3 : up2);
  const T z = s * s;
  // atanh(s) / s - 1 = z / 3 + z^2 / 5 + ...: through z^4 / 9 (float) or z^9 / 19 (double).
  static constexpr T kFloat[] = {T(1) / 9, T(1) / 7, T(1) / 5, T(1) / 3};
  static constexpr T kDouble[] = {T(1) / 19, T(1) / 17, T(1) / 15, T(1) / 13, T(1) / 11,
                                  T(1) / 9,  T(1) / 7,  T(1) / 5,  T(1) / 3};
  T p;
  if constexpr (sizeof(T) == 4) {
    p = horner(z, kFloat);
  } else {
    p = horner(z, kDouble);
  }
  const T atanh2 = T(2) * s + T(2) * s * z * p;
  const T offset = high ? T(0.69314718055994530942) : T(0);
  return offset + atanh2;
}

// 1 / (1 + e^-x). For x < -ln(max) e^-x is inf and the result exactly 0, so
// there is no overflow and no NaN at any |x|; the sign-split form e^x / (1 + e^x)
// differs only where the result is below the smallest normal number (it gives
// the subnormal, this gives 0), and costs a select more.
//
// e^a (a = -x) comes from vexp's reduction and polynomial with one scaling
// instead of two: 1 + e^a = (e^r 2^(k-1)) 2 + 1, where 2^(k-1) is normal for
// every a in [kSigmoidMin, kExpHi] and both products are exact, so the result
// is bit for bit 1 / (1 + vexp(-x)) (checked on every float and on 2^26
// doubles): below kSigmoidMin, e^a is under half an ulp of 1 both ways, and at
// the top the doubling overflows to inf exactly where vexp's product does.
// Four vector instructions fewer than through vexp, about 6 % of the loop.
// On AVX2 and AVX-512 CPUs the activation's forward runs a hand-written copy
// of these operations with the same bits (sigmoid_span.h).
template <typename T>
inline T vsigmoid(T x) {
  using B = Bits<T>;
  T a = -x;
  a = B::kExpHi < a ? B::kExpHi : a;  // written so that NaN passes (see vexp)
  a = B::kSigmoidMin > a ? B::kSigmoidMin : a;
  T r;
  const typename B::UInt k = reduce(a, r);
  const T half = (T(1) + expm1_reduced(r)) * pow2i<T>(k - 1);
  return T(1) / (half * T(2) + T(1));
}

template <typename T>
inline T vtanh(T x) {
  const T em = vexpm1_neg(T(-2) * std::fabs(x));
  return std::copysign(-em / (T(2) + em), x);
}

// float tanh as a rational function x P(x^2) / Q(x^2) of degrees 13 / 6, fitted
// (least squares on the relative error, then an L^32 refinement) on |x| <= 9.5,
// beyond which tanh rounds to 1 in float: relative error 3.8e-8 in exact
// arithmetic, 3.7e-7 (6 ulp) evaluated in float. Half the work of the expm1 form.
inline float vtanh(float x) {
  const float a = std::fabs(x);
  const float c = 9.5f < a ? 9.5f : a;
  const float z = c * c;
  static constexpr float kP[] = {-7.696229421145722e-14f, 4.9754665749370085e-11f,
                                 -1.9612020133420838e-08f, 1.1006724963108873e-05f,
                                 0.003090083079399255f,    0.1307166903233877f,
                                 0.9999999943427056f};
  static constexpr float kQ[] = {0.00025257970101654853f, 0.024440174574873397f,
                                 0.4640499656399136f, 1.0f};
  const float p = horner(z, kP);
  const float q = horner(z, kQ);
  const float t = c * p / q;
  return std::copysign(1.0f < t ? 1.0f : t, x);
}

// Phi(x) = (1 + erf(x / sqrt 2)) / 2, the standard normal CDF, given
// e = exp(-x^2 / 2). With v = x / sqrt 2, Cephes ndtr.c (Moshier) rational
// approximations: erf(v) = v T(v^2) / U(v^2) for |v| <= 1, and above it
// erfc(|v|) = e P(|v|) / Q(|v|) below 8 and e R(|v|) / S(|v|) from 8 on, so
// Phi = erfc / 2 for x < 0, relatively accurate far into the tail (no
// cancellation of 1 + erf). One division, after selecting its operands.
// Coefficients highest degree first; the leading 1 of U, Q and S is implicit.
inline constexpr double kNdtrT[] = {9.60497373987051638749e0, 9.00260197203842689217e1,
                                    2.23200534594684319226e3, 7.00332514112805075473e3,
                                    5.55923013010394962768e4};
inline constexpr double kNdtrU[] = {3.35617141647503099647e1, 5.21357949780152679795e2,
                                    4.59432382970980127987e3, 2.26290000613890934246e4,
                                    4.92673942608635921086e4};
inline constexpr double kNdtrP[] = {2.46196981473530512524e-10, 5.64189564831068821977e-1,
                                    7.46321056442269912687e0,   4.86371970985681366614e1,
                                    1.96520832956077098242e2,   5.26445194995477358631e2,
                                    9.34528527171957607540e2,   1.02755188689515710272e3,
                                    5.57535335369399327526e2};
inline constexpr double kNdtrQ[] = {1.32281951154744992508e1, 8.67072140885989742329e1,
                                    3.54937778887819891062e2, 9.75708501743205489753e2,
                                    1.82390916687909736289e3, 2.24633760818710981792e3,
                                    1.65666309194161350182e3, 5.57535340817727675546e2};
inline constexpr double kNdtrR[] = {5.64189583547755073984e-1, 1.27536670759978104416e0,
                                    5.01905042251180477414e0,  6.16021097993053585195e0,
                                    7.40974269950448939160e0,  2.97886665372100240670e0};
inline constexpr double kNdtrS[] = {2.26052863220117276590e0, 9.39603524938001434673e0,
                                    1.20489539808096656605e1, 1.70814450747565897222e1,
                                    9.60896809063285878198e0, 3.36907645100081516050e0};

inline double normal_cdf(double x, double e) {
  const double v = x * 0.70710678118654752440;
  const double a = std::fabs(v);
  const double z = v * v;
  const double t = horner(z, kNdtrT), u = horner1(z, kNdtrU);
  const double b = a > 8.0 ? 8.0 : a;
  const double p = horner(b, kNdtrP), q = horner1(b, kNdtrQ);
  // Beyond |v| = 40, e is 0 and only the finiteness of R and S matters.
  double c = 8.0 > a ? 8.0 : a;
  c = 40.0 < c ? 40.0 : c;
  const double r = horner(c, kNdtrR), w = horner1(c, kNdtrS);
  const bool small = a <= 1.0, mid = a < 8.0;
  const double vt = v * t, ep = e * p, er = e * r;
  const double num = small ? vt : (mid ? ep : er);
  const double den = small ? u : (mid ? q : w);
  const double half = 0.5 * (num / den);  // erf(v) / 2, or erfc(|v|) / 2
  const double upper = 1.0 - half, centre = 0.5 + half;
  const double tail = v < 0.0 ? half : upper;
  return small ? centre : tail;
}

// float Phi(x) from Cephes ndtrf.c (Moshier) polynomials, 16 lanes per AVX-512
// vector: erf(v) = v T(v^2) for |v| <= 1; above it erfc(|v|) = e / |v| P(1/v^2)
// below 2 and e / |v| R(1/v^2) from 2 on (relative error 3e-8 in exact
// arithmetic). The caller computes e = exp(-x^2 / 2) in double: rounding x^2 / 2
// to float first would cost up to 1e-5 relative error in the tail.
inline constexpr float kNdtrfT[] = {7.853861353153693e-5f, -8.010193625184903e-4f,
                                    5.188327685732524e-3f, -2.685381193529856e-2f,
                                    1.128358514861418e-1f, -3.761262582423300e-1f,
                                    1.128379165726710e+0f};
inline constexpr float kNdtrfP[] = {2.326819970068386e-2f,  -1.387039388740657e-1f,
                                    3.687424674597105e-1f,  -5.824733027278666e-1f,
                                    6.210004621745983e-1f,  -4.944515323274145e-1f,
                                    3.404879937665872e-1f,  -2.741127028184656e-1f,
                                    5.638259427386472e-1f};
inline constexpr float kNdtrfR[] = {-1.047766399936249e+1f, 1.297719955372516e+1f,
                                    -7.495518717768503e+0f, 2.921019019210786e+0f,
                                    -1.015265279202700e+0f, 4.218463358204948e-1f,
                                    -2.820767439740514e-1f, 5.641895067754075e-1f};

inline float normal_cdf(float x, float e) {
  const float v = x * 0.70710678118654752440f;
  const float a = std::fabs(v);
  const float t = horner(v * v, kNdtrfT);
  // Tail terms on |v| clamped to [1, 1e4] (finite for every input; e is 0 long before 1e4).
  float c = 1.0f > a ? 1.0f : a;
  c = 1e4f < c ? 1e4f : c;
  const float w = 1.0f / (c * c);
  const float p = horner(w, kNdtrfP), r = horner(w, kNdtrfR);
  const float half_erfc = 0.5f * e * (c * w) * (a < 2.0f ? p : r);
  const float centre = 0.5f + 0.5f * v * t;
  const float upper = 1.0f - half_erfc;
  const float tail = v < 0.0f ? half_erfc : upper;
  return a <= 1.0f ? centre : tail;
}

}  // namespace vgp::ops::vm
