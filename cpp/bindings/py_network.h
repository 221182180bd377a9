// PyNetwork<T>, the object behind Network32 / Network64, and what the files
// binding it share (bindings/network.cpp: the class, weights, loss,
// optimizer, statistics; bindings/network_passes.cpp: training, evaluation
// and the probes).
//
// Every call validates shapes and index ranges before any pointer is used,
// then releases the GIL and takes the network's mutex (PyNetwork::locked):
// one network serves one call at a time (predict from several Python threads
// is safe), and different networks run truly in parallel. The GIL is always
// released BEFORE waiting for the mutex, never the other way round: a thread
// holding the mutex re-acquires the GIL to poll for Ctrl-C, so a thread that
// waited for the mutex while holding the GIL would deadlock with it. (Reading
// the statistics only *tries* the mutex with the GIL held, see
// locked_with_gil.)
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <type_traits>
#include <vector>

#include "bindings/bind.h"
#include "bindings/network_args.h"
#include "network/network.h"

namespace vgp::bind {

// Polls Python's signal handlers from inside a native loop (with the GIL
// re-acquired for the call). A KeyboardInterrupt stays set as the pending
// error, re-raised once the loop has ended and the GIL is held again.
inline std::function<bool()> signal_poller() {
  return [] {
    py::gil_scoped_acquire gil;
    return PyErr_CheckSignals() != 0;
  };
}

template <typename T>
struct VGP_HIDDEN PyNetwork {
  std::unique_ptr<Network<T>> net;
  std::mutex mu;

  // f() under the network's mutex, with the GIL released (see the top of the
  // file); f must not touch Python objects. Every native call goes through here.
  template <typename F>
  auto locked(F&& f) {
    py::gil_scoped_release nogil;
    std::lock_guard<std::mutex> lock(mu);
    return f();
  }

  // As locked(), for a loop that Ctrl-C may stop: f(should_stop, &stopped).
  // When it stopped, the KeyboardInterrupt it stopped for is raised here.
  template <typename F>
  auto interruptible(F&& f) {
    const std::function<bool()> should_stop = signal_poller();
    bool stopped = false;
    const auto call = [&] { return f(should_stop, &stopped); };
    if constexpr (std::is_void_v<decltype(call())>) {
      locked(call);
      if (stopped) throw py::error_already_set();
    } else {
      auto result = locked(call);
      if (stopped) throw py::error_already_set();
      return result;
    }
  }

  // f() under the network's mutex with the GIL held, for a short read that
  // builds Python objects straight from the network's buffers. Holding the
  // GIL it only tries the mutex; when the mutex is busy it waits with the GIL
  // released and takes the GIL back afterwards, which no thread waits on the
  // mutex for (see the top of the file).
  template <typename F>
  auto locked_with_gil(F&& f) {
    std::unique_lock<std::mutex> lock(mu, std::try_to_lock);
    if (!lock.owns_lock()) {
      py::gil_scoped_release nogil;
      lock.lock();
    }
    return f();
  }

  PyNetwork(const py::list& specs, index_t in_features, int stat_rows) {
    std::vector<LayerSpec> s;
    for (const py::handle& h : specs) s.push_back(parse_spec(py::cast<py::dict>(h)));
    net = std::make_unique<Network<T>>(s, in_features, stat_rows);
  }

  void check_x(const char* op, const carray<T>& x) const {
    require_ndim(op, "x", x, 2);
    if (x.shape(1) != net->in_features()) {
      throw std::invalid_argument(std::string(op) + ": expected x.shape=(n, " +
                                  std::to_string(net->in_features()) + "), received " +
                                  shape_str(x));
    }
  }

  void check_xy(const char* op, const carray<T>& x, const carray<T>& y) const {
    require_ndim(op, "x", x, 2);
    require_ndim(op, "y", y, 2);
    check_x(op, x);
    if (y.shape(0) != x.shape(0)) {
      throw std::invalid_argument(std::string(op) + ": x has " + std::to_string(x.shape(0)) +
                                  " rows but y has " + std::to_string(y.shape(0)));
    }
  }
};

// (loss_sum, metric_sum, rows, halted) of a training call; without `halted`
// for evaluate and compute_gradients.
inline py::tuple train_result(const StepResult& r) {
  return py::make_tuple(r.loss_sum, r.metric_sum, r.rows, r.halted);
}
inline py::tuple eval_result(const StepResult& r) {
  return py::make_tuple(r.loss_sum, r.metric_sum, r.rows);
}

template <typename T>
carray<T> new_matrix(index_t rows, index_t cols) {
  return carray<T>({static_cast<py::ssize_t>(rows), static_cast<py::ssize_t>(cols)});
}

// Registers the training, evaluation and probe methods (network_passes.cpp).
template <typename T>
void def_network_passes(py::class_<PyNetwork<T>>& cls);

}  // namespace vgp::bind
