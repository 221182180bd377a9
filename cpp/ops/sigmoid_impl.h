// The sigmoid over a span, written once over a vector type V and compiled by
// each ISA's file (sigmoid_avx512.cpp, sigmoid_avx2.cpp), which defines V and
// the macros VGP_SIG_INLINE (an always-inline function of its target) and
// VGP_SIG_TARGET before including this, inside an anonymous namespace.
//
// The operations of vm::vsigmoid (vecmath.h) in the same order and with the
// same roundings, so the bits are those of the generic loop's clone for the
// same ISA (sigmoid_span.h):
//
//   a = clamp(-x, kSigmoidMin, kExpHi),  k = rint(a / ln 2),  r = a - k ln2
//   y = 1 / ((1 + expm1(r)) 2^k + 1)
//
// V provides the vector operations, the Taylor coefficients kPoly, and
// scaled_plus_one(q, shifted, k) = q 2^k + 1 with one rounding (shifted = k +
// the rounding constant, whose low bits hold k as an integer): with AVX-512's
// vscalef, exact where q 2^k is a normal number, then the addition; with AVX2
// as the generic loop does it, (q 2^(k-1)) 2 + 1 in one fma, the product exact.
#pragma once

// vm::vsigmoid on N vectors in place, each step for all N before the next:
// GCC keeps that order on x86 (no scheduling pass before register
// allocation), so the N chains of about 60 cycles each reach the out-of-order
// core interleaved rather than one after the other. min(c, a) and max(c, a)
// return a when it is NaN (as the generic clamps do), and NaN carries through.
template <class V, int N>
VGP_SIG_INLINE void sigmoid(typename V::R (&v)[N]) {
  using T = typename V::T;
  using B = vm::Bits<T>;
  using R = typename V::R;
  constexpr int kTerms = static_cast<int>(sizeof(V::kPoly) / sizeof(V::kPoly[0]));
  const R magic = V::set1(B::kMagic);
  const R one = V::set1(T(1));
  R sh[N], k[N], r[N], p[N];
#pragma GCC unroll 16
  for (int i = 0; i < N; ++i) v[i] = V::min(V::set1(B::kExpHi), V::neg(v[i]));
#pragma GCC unroll 16
  for (int i = 0; i < N; ++i) v[i] = V::max(V::set1(B::kSigmoidMin), v[i]);  // a
#pragma GCC unroll 16
  for (int i = 0; i < N; ++i) sh[i] = V::fma(v[i], V::set1(T(1.44269504088896340736)), magic);
#pragma GCC unroll 16
  for (int i = 0; i < N; ++i) k[i] = V::sub(sh[i], magic);
#pragma GCC unroll 16
  for (int i = 0; i < N; ++i) r[i] = V::fnma(k[i], V::set1(B::kLn2Hi), v[i]);
#pragma GCC unroll 16
  for (int i = 0; i < N; ++i) r[i] = V::fnma(k[i], V::set1(B::kLn2Lo), r[i]);
#pragma GCC unroll 16
  for (int i = 0; i < N; ++i) p[i] = V::fma(V::set1(V::kPoly[0]), r[i], V::set1(V::kPoly[1]));
#pragma GCC unroll 16
  for (int t = 2; t < kTerms; ++t) {
#pragma GCC unroll 16
    for (int i = 0; i < N; ++i) p[i] = V::fma(p[i], r[i], V::set1(V::kPoly[t]));
  }
#pragma GCC unroll 16
  for (int i = 0; i < N; ++i) p[i] = V::fma(V::mul(r[i], r[i]), p[i], r[i]);  // expm1(r)
#pragma GCC unroll 16
  for (int i = 0; i < N; ++i) p[i] = V::scaled_plus_one(V::add(one, p[i]), sh[i], k[i]);
#pragma GCC unroll 16
  for (int i = 0; i < N; ++i) v[i] = V::div(one, p[i]);
}

// Four vectors a step while they last, then one, then the partial rest.
template <class V>
VGP_SIG_TARGET void sigmoid_span(const typename V::T* x, typename V::T* y, index_t n) {
  using R = typename V::R;
  constexpr int W = V::W;
  index_t j = 0;
  for (; j + 4 * W <= n; j += 4 * W) {
    R v[4];
#pragma GCC unroll 4
    for (int i = 0; i < 4; ++i) v[i] = V::load(x + j + i * W);
    sigmoid<V>(v);
#pragma GCC unroll 4
    for (int i = 0; i < 4; ++i) V::store(y + j + i * W, v[i]);
  }
  for (; j + W <= n; j += W) {
    R v[1] = {V::load(x + j)};
    sigmoid<V>(v);
    V::store(y + j, v[0]);
  }
  if (j < n) {  // n - j < W elements
    R v[1] = {V::load_n(x + j, n - j)};
    sigmoid<V>(v);
    V::store_n(y + j, n - j, v[0]);
  }
}

