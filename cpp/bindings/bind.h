// Shared helpers for the pybind11 binding files (the only files that include
// pybind11). Arrays arrive as C-contiguous py::array_t<T> with noconvert():
// conversion is the Python wrappers' job (vgp_native.ops), so that writes to
// output buffers never land in a silent temporary copy.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <initializer_list>
#include <stdexcept>
#include <string>

#include "common.h"

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

void bind_ops_gemm(py::module_& m);
void bind_ops_core(py::module_& m);
void bind_ops_train(py::module_& m);
void bind_network(py::module_& m);

}  // namespace vgp::bind
