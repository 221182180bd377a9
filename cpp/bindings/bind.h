// Shared helpers for the pybind11 binding files (the only files that include
// pybind11). Arrays arrive as C-contiguous py::array_t<T> with noconvert():
// conversion is the Python wrappers' job (vgp_native.ops), so that writes to
// output buffers never land in a silent temporary copy.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <initializer_list>
#include <optional>
#include <sstream>
#include <utility>
#include <stdexcept>
#include <string>

#include "common.h"
#include "ops/activation.h"

// pybind11 gives its types hidden visibility, and with them every template
// instantiated over them. A class the binding files share that is
// instantiated over such types (their lambdas) is declared hidden as well, or
// GCC warns that it is more visible than its members (-Wattributes).
#if defined(__GNUC__)
#define VGP_HIDDEN __attribute__((visibility("hidden")))
#else
#define VGP_HIDDEN
#endif

namespace vgp::bind {

namespace py = pybind11;

template <typename T>
using carray = py::array_t<T, py::array::c_style>;

inline std::string shape_str(const py::array& a) {
  std::string s = "(";
  for (py::ssize_t i = 0; i < a.ndim(); ++i) {
    if (i) s += ", ";
    s += std::to_string(a.shape(i));
  }
  if (a.ndim() == 1) s += ",";
  return s + ")";
}

inline std::string dims_str(std::initializer_list<index_t> dims) {
  std::string s = "(";
  bool first = true;
  for (index_t d : dims) {
    if (!first) s += ", ";
    s += std::to_string(d);
    first = false;
  }
  if (dims.size() == 1) s += ",";
  return s + ")";
}

// Throws ValueError "<op>: expected <name>.shape=(...), received (...)".
inline void require_shape(const char* op, const char* name, const py::array& a,
                          std::initializer_list<index_t> dims) {
  bool ok = a.ndim() == static_cast<py::ssize_t>(dims.size());
  if (ok) {
    py::ssize_t i = 0;
    for (index_t d : dims) ok = ok && a.shape(i++) == d;
  }
  if (!ok) {
    throw std::invalid_argument(std::string(op) + ": expected " + name + ".shape=" +
                                dims_str(dims) + ", received " + shape_str(a));
  }
}

inline void require_ndim(const char* op, const char* name, const py::array& a, int ndim) {
  if (a.ndim() != ndim) {
    throw std::invalid_argument(std::string(op) + ": expected " + name + " with " +
                                std::to_string(ndim) + " dimension(s), received shape " +
                                shape_str(a));
  }
}

inline void require_writeable(const char* op, const char* name, const py::array& a) {
  if (!a.writeable()) {
    throw std::invalid_argument(std::string(op) + ": " + name + " must be writeable");
  }
}

// Throws ValueError "<op>: expected <name>.shape=(...) (the shape of <ref_name>), received (...)".
inline void require_like(const char* op, const char* name, const py::array& a,
                         const char* ref_name, const py::array& ref) {
  bool ok = a.ndim() == ref.ndim();
  for (py::ssize_t i = 0; ok && i < a.ndim(); ++i) ok = a.shape(i) == ref.shape(i);
  if (!ok) {
    throw std::invalid_argument(std::string(op) + ": expected " + name + ".shape=" +
                                shape_str(ref) + " (the shape of " + ref_name + "), received " +
                                shape_str(a));
  }
}

// Requires a 2-D array and returns its (rows, cols).
inline std::pair<index_t, index_t> require_matrix(const char* op, const char* name,
                                                  const py::array& a) {
  require_ndim(op, name, a, 2);
  return {a.shape(0), a.shape(1)};
}

// Mutable pointer of an output array, which must be writeable.
template <typename T>
T* out_ptr(const char* op, const char* name, carray<T>& a) {
  require_writeable(op, name, a);
  return a.mutable_data();
}

// Rejects two buffers whose memory overlaps where the kernel needs them apart.
inline void require_distinct(const char* op, const char* name_a, const py::array& a,
                             const char* name_b, const py::array& b) {
  const auto* pa = static_cast<const char*>(a.data());
  const auto* pb = static_cast<const char*>(b.data());
  if (a.nbytes() > 0 && b.nbytes() > 0 && pa < pb + b.nbytes() && pb < pa + a.nbytes()) {
    throw std::invalid_argument(std::string(op) + ": " + name_a + " and " + name_b +
                                " must not share memory");
  }
}

// Rejects any output (null: absent) that overlaps any input: for kernels that
// read their inputs while writing their outputs (GEMMs).
using Named = std::pair<const char*, const py::array*>;
inline void require_apart(const char* op, std::initializer_list<Named> outputs,
                          std::initializer_list<Named> inputs) {
  for (const auto& [out_name, out] : outputs) {
    if (out == nullptr) continue;
    for (const auto& [in_name, in] : inputs) require_distinct(op, out_name, *out, in_name, *in);
  }
}

// Throws ValueError "<op>: expected <name> <what>, received <value>" unless ok.
inline void require_value(bool ok, const char* op, const char* name, const char* what,
                          double value) {
  if (!ok) {
    std::ostringstream msg;
    msg << op << ": expected " << name << " " << what << ", received " << value;
    throw std::invalid_argument(msg.str());
  }
}

// The activation of an integer code (_core.ACTIVATION_CODES).
inline ops::Act require_act(const char* op, int code, bool elementwise_only) {
  const bool ok = find_code(ops::kActivationNames, code) != nullptr &&
                  !(elementwise_only && code == static_cast<int>(ops::Act::softmax));
  if (!ok) {
    throw std::invalid_argument(std::string(op) + ": expected act to be " +
                                (elementwise_only ? "an elementwise activation code"
                                                  : "an activation code") +
                                ", received " + std::to_string(code));
  }
  return static_cast<ops::Act>(code);
}

// An optional array argument (None: absent).
template <typename T>
using opt = std::optional<carray<T>>;

template <typename T>
const T* data_or_null(const opt<T>& a) {
  return a ? a->data() : nullptr;
}

// Output pointer of an optional output of the given shape, or null.
template <typename T>
T* out_or_null(const char* op, const char* name, opt<T>& a, std::initializer_list<index_t> dims) {
  if (!a) return nullptr;
  require_shape(op, name, *a, dims);
  return out_ptr(op, name, *a);
}

template <typename T>
const py::array* array_or_null(const opt<T>& a) {
  return a ? &*a : nullptr;
}

// Runs f() with the GIL released; f must not touch Python objects.
template <typename F>
auto without_gil(F&& f) {
  py::gil_scoped_release nogil;
  return f();
}

void bind_ops_gemm(py::module_& m);
void bind_ops_core(py::module_& m);
void bind_ops_batchnorm(py::module_& m);
void bind_ops_train(py::module_& m);
void bind_network(py::module_& m);
void bind_codes(py::module_& m);
void bind_random(py::module_& m);

}  // namespace vgp::bind
