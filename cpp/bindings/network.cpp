// Binding of the native executor as Network32 / Network64.
//
// Parameters and gradients are exposed as numpy arrays that VIEW the
// network's own memory (their base object is the network), so Python layers
// read and write weights without copies. The buffers are allocated once when
// the network is built and never move.
//
// Every call validates shapes and index ranges before any pointer is used,
// then releases the GIL and takes the network's mutex: one network serves one
// call at a time (predict from several Python threads is safe), and
// different networks run truly in parallel. The GIL is always released
// BEFORE waiting for the mutex, never the other way round: a thread holding
// the mutex re-acquires the GIL to poll for Ctrl-C, so a thread that waited
// for the mutex while holding the GIL would deadlock with it. (Reading the
// statistics only *tries* the mutex with the GIL held, see locked_with_gil.)
#include <algorithm>
#include <cstdint>
#include <mutex>
#include <optional>
#include <vector>

#include "bindings/bind.h"
#include "network.h"

namespace vgp::bind {
namespace {

LayerSpec parse_spec(const py::dict& d) {
  LayerSpec s;
  s.kind = py::cast<std::string>(d["kind"]);
  auto get = [&](const char* key, auto& field) {
    if (d.contains(key)) field = py::cast<std::decay_t<decltype(field)>>(d[key]);
  };
  get("units", s.units);
  get("act", s.act);
  get("use_bias", s.use_bias);
  get("epsilon", s.epsilon);
  get("momentum", s.momentum);
  get("rate", s.rate);
  get("kernel_row", s.kernel_row);
  get("probe_row", s.probe_row);
  get("probe_act", s.probe_act);
  get("hist_lo", s.hist_lo);
  get("hist_hi", s.hist_hi);
  if (d.contains("children")) {
    for (const py::handle& c : py::cast<py::list>(d["children"])) {
      s.children.push_back(parse_spec(py::cast<py::dict>(c)));
    }
  }
  return s;
}

OptimizerSpec parse_optimizer(const py::dict& d) {
  OptimizerSpec o;
  const std::string kind = py::cast<std::string>(d["kind"]);
  const EnumName<OptimizerKind>* known = find_name(kOptimizerNames, kind);
  if (!known) throw std::invalid_argument("set_optimizer: unknown kind '" + kind + "'");
  o.kind = known->value;
  auto get = [&](const char* key, auto& field) {
    if (d.contains(key) && !d[key].is_none()) {
      field = py::cast<std::decay_t<decltype(field)>>(d[key]);
    }
  };
  get("learning_rate", o.learning_rate);
  get("beta_1", o.beta_1);
  get("beta_2", o.beta_2);
  get("epsilon", o.epsilon);
  get("momentum", o.momentum);
  get("nesterov", o.nesterov);
  get("rho", o.rho);
  get("centered", o.centered);
  get("clipnorm", o.clipnorm);
  get("clipvalue", o.clipvalue);
  return o;
}

Mode parse_mode(const std::string& mode) {
  if (mode == "train") return Mode::train;
  if (mode == "probe") return Mode::probe;
  if (mode == "infer") return Mode::infer;
  throw std::invalid_argument("mode must be 'train', 'probe' or 'infer', received '" + mode + "'");
}

void check_indices(const char* op, const carray<std::int64_t>& idx, index_t n) {
  require_ndim(op, "indices", idx, 1);
  const std::int64_t* p = idx.data();
  for (py::ssize_t i = 0; i < idx.shape(0); ++i) {
    if (p[i] < 0 || p[i] >= n) {
      throw std::invalid_argument(std::string(op) + ": index " + std::to_string(p[i]) +
                                  " out of range for " + std::to_string(n) + " rows");
    }
  }
}

// Polls Python's signal handlers from inside a native loop (with the GIL
// re-acquired for the call). A KeyboardInterrupt stays set as the pending
// error, re-raised once the loop has ended and the GIL is held again.
std::function<bool()> signal_poller() {
  return [] {
    py::gil_scoped_acquire gil;
    return PyErr_CheckSignals() != 0;
  };
}

template <typename T>
struct PyNetwork {
  std::unique_ptr<Network<T>> net;
  std::mutex mu;

  // f() under the network's mutex, with the GIL released (see the top of the file).
  template <typename F>
  auto locked(F&& f) {
    py::gil_scoped_release nogil;
    std::lock_guard<std::mutex> lock(mu);
    return f();
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

  void check_xy(const char* op, const carray<T>& x, const carray<T>& y) const {
    require_ndim(op, "x", x, 2);
    require_ndim(op, "y", y, 2);
    if (x.shape(1) != net->in_features()) {
      throw std::invalid_argument(std::string(op) + ": expected x.shape=(n, " +
                                  std::to_string(net->in_features()) + "), received " +
                                  shape_str(x));
    }
    if (y.shape(0) != x.shape(0)) {
      throw std::invalid_argument(std::string(op) + ": x has " + std::to_string(x.shape(0)) +
                                  " rows but y has " + std::to_string(y.shape(0)));
    }
  }
};

// The recorded batches as (records (batches, rows, kRowWidth), the mean loss
// of each batch, its index in its epoch), copied once, from the recorder into
// new arrays; needs the GIL and the network's mutex. One loss per recorded
// batch (none when the network has no rows).
py::tuple recorded_arrays(const StatsRecorder& st) {
  const py::ssize_t b = static_cast<py::ssize_t>(st.losses.size());
  py::array_t<double> rec({b, static_cast<py::ssize_t>(st.rows), static_cast<py::ssize_t>(kRowWidth)});
  std::copy(st.record.begin(), st.record.end(), rec.mutable_data());
  py::array_t<double> loss(b);
  std::copy(st.losses.begin(), st.losses.end(), loss.mutable_data());
  py::array_t<std::int64_t> batch_ids(b);
  std::copy(st.batch_ids.begin(), st.batch_ids.end(), batch_ids.mutable_data());
  return py::make_tuple(rec, loss, batch_ids);
}

// Drops the recorded batches, keeping the buffers' capacity for the next ones.
void clear_recorded(StatsRecorder& st) {
  st.record.clear();
  st.losses.clear();
  st.batch_ids.clear();
}

template <typename T>
py::array view_of(std::vector<T>& buf, const std::vector<index_t>& shape, py::handle owner) {
  std::vector<py::ssize_t> sh(shape.begin(), shape.end());
  return py::array_t<T>(sh, buf.data(), owner);
}

template <typename T>
void bind_network_dtype(py::module_& m, const char* name) {
  using PN = PyNetwork<T>;
  py::class_<PN>(m, name)
      .def(py::init<const py::list&, index_t, int>(), py::arg("specs"), py::arg("in_features"),
           py::arg("stat_rows") = 0)
      .def_property_readonly("in_features", [](PN& s) { return s.net->in_features(); })
      .def_property_readonly("out_features", [](PN& s) { return s.net->out_features(); })
      .def_property_readonly("stat_rows", [](PN& s) { return s.net->stat_rows(); })
      .def_property_readonly("optimizer_steps",
                             [](PN& s) { return s.locked([&] { return s.net->optimizer_steps(); }); })
      .def_property_readonly("loss_fused",
                             [](PN& s) { return s.locked([&] { return s.net->loss_fused(); }); })
      .def_property_readonly("layer_widths", [](PN& s) { return s.net->layer_widths(); })
      .def("param_info",
           [](PN& s) {
             py::list out;
             for (Param<T>* p : s.net->params()) {
               out.append(py::make_tuple(p->name, py::tuple(py::cast(p->shape)), p->trainable,
                                         p->kernel_row));
             }
             return out;
           })
      .def("params",
           [](py::object self) {
             PN& s = self.cast<PN&>();
             py::list out;
             for (Param<T>* p : s.net->params()) out.append(view_of(p->value, p->shape, self));
             return out;
           })
      .def("grads",
           [](py::object self) {
             PN& s = self.cast<PN&>();
             py::list out;
             for (Param<T>* p : s.net->params()) {
               if (p->trainable) {
                 out.append(view_of(p->grad, p->shape, self));
               } else {
                 out.append(py::none());
               }
             }
             return out;
           })
      .def("set_loss",
           [](PN& s, int loss, int metric) {
             if (!find_code(kLossNames, loss)) {
               throw std::invalid_argument("set_loss: unknown loss code " + std::to_string(loss));
             }
             if (metric != static_cast<int>(MetricKind::none) && !find_code(kMetricNames, metric)) {
               throw std::invalid_argument("set_loss: unknown metric code " + std::to_string(metric));
             }
             s.locked([&] {
               s.net->set_loss(static_cast<LossKind>(loss), static_cast<MetricKind>(metric));
             });
           },
           py::arg("loss"), py::arg("metric"))
      .def("set_optimizer",
           [](PN& s, const py::dict& d) {
             const OptimizerSpec o = parse_optimizer(d);
             s.locked([&] { s.net->set_optimizer(o); });
           },
           py::arg("config"))
      .def("train_epoch",
           [](PN& s, carray<T> x, carray<T> y, std::optional<carray<std::int64_t>> perm,
              index_t batch_size, std::optional<carray<std::uint64_t>> seeds, index_t record,
              bool halt_on_nonfinite) {
             s.check_xy("train_epoch", x, y);
             const index_t n = x.shape(0);
             if (batch_size < 1) {
               throw std::invalid_argument("train_epoch: batch_size must be >= 1");
             }
             if (perm) {
               require_shape("train_epoch", "perm", *perm, {n});
               check_indices("train_epoch", *perm, n);
             }
             const index_t batches = (n + batch_size - 1) / batch_size;
             if (seeds) require_shape("train_epoch", "seeds", *seeds, {batches});
             const T* px = x.data();
             const T* py_ = y.data();
             const std::int64_t* pp = perm ? perm->data() : nullptr;
             const std::uint64_t* ps = seeds ? seeds->data() : nullptr;
             const index_t yw = y.shape(1);
             StepResult r;
             bool stopped = false;
             {
               py::gil_scoped_release nogil;
               std::lock_guard<std::mutex> lock(s.mu);
               r = s.net->train_epoch(px, py_, n, yw, pp, batch_size, ps, record,
                                      halt_on_nonfinite, signal_poller(), &stopped);
             }
             if (stopped) throw py::error_already_set();
             return py::make_tuple(r.loss_sum, r.metric_sum, r.rows, r.halted);
           },
           py::arg("x").noconvert(), py::arg("y").noconvert(), py::arg("perm").noconvert(),
           py::arg("batch_size"), py::arg("seeds").noconvert(), py::arg("record") = 0,
           py::arg("halt_on_nonfinite") = false)
      .def("train_batch",
           [](PN& s, carray<T> x, carray<T> y, std::optional<carray<std::int64_t>> idx,
              std::uint64_t seed, int record, bool halt_on_nonfinite, index_t batch_index) {
             s.check_xy("train_batch", x, y);
             if (record < kRecordOff || record > kRecordIfNonfinite) {
               throw std::invalid_argument("train_batch: record must be 0, 1 or 2");
             }
             index_t count = x.shape(0);
             if (idx) {
               check_indices("train_batch", *idx, x.shape(0));
               count = idx->shape(0);
             }
             if (count < 1) throw std::invalid_argument("train_batch: empty batch");
             const T* px = x.data();
             const T* py_ = y.data();
             const std::int64_t* pi = idx ? idx->data() : nullptr;
             const index_t yw = y.shape(1);
             StepResult r;
             bool stopped = false;
             {
               py::gil_scoped_release nogil;
               std::lock_guard<std::mutex> lock(s.mu);
               r = s.net->train_batch(px, py_, yw, pi, count, seed, record, halt_on_nonfinite,
                                      signal_poller(), &stopped, batch_index);
             }
             if (stopped) throw py::error_already_set();
             return py::make_tuple(r.loss_sum, r.metric_sum, r.rows, r.halted);
           },
           py::arg("x").noconvert(), py::arg("y").noconvert(), py::arg("indices").noconvert(),
           py::arg("seed") = 0, py::arg("record") = 0, py::arg("halt_on_nonfinite") = false,
           py::arg("batch_index") = 0)
      .def("evaluate",
           [](PN& s, carray<T> x, carray<T> y, index_t batch_size, const std::string& mode) {
             s.check_xy("evaluate", x, y);
             if (batch_size < 1) throw std::invalid_argument("evaluate: batch_size must be >= 1");
             const Mode md = parse_mode(mode);
             if (md == Mode::train) {
               throw std::invalid_argument("evaluate: mode must be 'infer' or 'probe', received 'train'");
             }
             const T* px = x.data();
             const T* py_ = y.data();
             const index_t n = x.shape(0), yw = y.shape(1);
             StepResult r;
             bool stopped = false;
             {
               py::gil_scoped_release nogil;
               std::lock_guard<std::mutex> lock(s.mu);
               r = s.net->evaluate(px, py_, n, yw, batch_size, signal_poller(), &stopped, md);
             }
             if (stopped) throw py::error_already_set();
             return py::make_tuple(r.loss_sum, r.metric_sum, r.rows);
           },
           py::arg("x").noconvert(), py::arg("y").noconvert(), py::arg("batch_size"),
           py::arg("mode") = "infer")
      .def("predict",
           [](PN& s, carray<T> x, index_t batch_size, const std::string& mode) {
             require_ndim("predict", "x", x, 2);
             if (x.shape(1) != s.net->in_features()) {
               throw std::invalid_argument("predict: expected x.shape=(n, " +
                                           std::to_string(s.net->in_features()) +
                                           "), received " + shape_str(x));
             }
             if (batch_size < 1) throw std::invalid_argument("predict: batch_size must be >= 1");
             const Mode md = parse_mode(mode);
             const index_t n = x.shape(0);
             carray<T> out({static_cast<py::ssize_t>(n),
                            static_cast<py::ssize_t>(s.net->out_features())});
             const T* px = x.data();
             T* po = out.mutable_data();
             bool stopped = false;
             {
               py::gil_scoped_release nogil;
               std::lock_guard<std::mutex> lock(s.mu);
               if (n > 0) s.net->predict(px, n, batch_size, po, md, signal_poller(), &stopped);
             }
             if (stopped) throw py::error_already_set();
             return out;
           },
           py::arg("x").noconvert(), py::arg("batch_size") = 32, py::arg("mode") = "infer")
      .def("compute_gradients",
           [](PN& s, carray<T> x, carray<T> y, const std::string& mode, bool record) {
             s.check_xy("compute_gradients", x, y);
             if (x.shape(0) < 1) throw std::invalid_argument("compute_gradients: empty batch");
             const Mode md = parse_mode(mode);
             const T* px = x.data();
             const T* py_ = y.data();
             const index_t n = x.shape(0), yw = y.shape(1);
             StepResult r;
             {
               py::gil_scoped_release nogil;
               std::lock_guard<std::mutex> lock(s.mu);
               r = s.net->compute_gradients(px, py_, n, yw, md, record);
             }
             return py::make_tuple(r.loss_sum, r.metric_sum, r.rows);
           },
           py::arg("x").noconvert(), py::arg("y").noconvert(), py::arg("mode") = "probe",
           py::arg("record") = false)
      .def("input_gradient",
           [](PN& s, carray<T> x, carray<T> dy, const std::string& mode) {
             require_ndim("input_gradient", "x", x, 2);
             const index_t n = x.shape(0);
             if (n < 1) throw std::invalid_argument("input_gradient: empty batch");
             require_shape("input_gradient", "x", x, {n, s.net->in_features()});
             require_shape("input_gradient", "dy", dy, {n, s.net->out_features()});
             const Mode md = parse_mode(mode);
             carray<T> dx({static_cast<py::ssize_t>(n),
                           static_cast<py::ssize_t>(s.net->in_features())});
             const T* px = x.data();
             const T* pd = dy.data();
             T* po = dx.mutable_data();
             {
               py::gil_scoped_release nogil;
               std::lock_guard<std::mutex> lock(s.mu);
               s.net->input_gradient(px, pd, n, po, md);
             }
             return dx;
           },
           py::arg("x").noconvert(), py::arg("dy").noconvert(), py::arg("mode") = "infer")
      .def("layer_outputs",
           [](PN& s, carray<T> x, const std::string& mode) {
             require_ndim("layer_outputs", "x", x, 2);
             const index_t n = x.shape(0);
             if (n < 1) throw std::invalid_argument("layer_outputs: empty batch");
             require_shape("layer_outputs", "x", x, {n, s.net->in_features()});
             const Mode md = parse_mode(mode);
             std::vector<std::vector<T>> outs;
             const T* px = x.data();
             {
               py::gil_scoped_release nogil;
               std::lock_guard<std::mutex> lock(s.mu);
               s.net->layer_outputs(px, n, md, outs);
             }
             py::list result;
             for (const auto& o : outs) {
               const py::ssize_t w = static_cast<py::ssize_t>(o.size()) / n;
               carray<T> a({static_cast<py::ssize_t>(n), w});
               std::copy(o.begin(), o.end(), a.mutable_data());
               result.append(a);
             }
             return result;
           },
           py::arg("x").noconvert(), py::arg("mode") = "infer")
      .def("stats",
           [](PN& s) { return s.locked_with_gil([&] { return recorded_arrays(s.net->stats()); }); },
           "Recorded statistics: (batches, rows, fields), the mean loss of each batch and its "
           "index in its epoch (-1 for a probe).")
      .def("take_stats",
           [](PN& s) {
             // stats() and clear_stats() in one call: fit collects the
             // records of many epochs at a time with it.
             return s.locked_with_gil([&] {
               py::tuple out = recorded_arrays(s.net->stats());
               clear_recorded(s.net->stats());
               return out;
             });
           },
           "As stats(), and clears them (stats() then clear_stats()).")
      .def("clear_stats", [](PN& s) { s.locked([&] { clear_recorded(s.net->stats()); }); });
}

}  // namespace

void bind_network(py::module_& m) {
  bind_network_dtype<float>(m, "Network32");
  bind_network_dtype<double>(m, "Network64");
  m.attr("STAT_FIELDS") = py::make_tuple(
      "grad_norm", "grad_mean_abs", "grad_max_abs", "grad_nonfinite", "weight_norm",
      "update_norm", "signal_norm", "signal_nonfinite", "act_mean", "act_std", "saturated", "dead",
      "act_nonfinite", "bias_grad_norm");
  m.attr("HIST_BINS") = kHistBins;
}

}  // namespace vgp::bind
