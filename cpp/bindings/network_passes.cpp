// Network32 / Network64: training (train_epoch, train_batch), evaluate,
// predict and the probes (compute_gradients, input_gradient, layer_outputs).
// Each checks its arguments with the GIL held, then runs the network through
// PyNetwork::locked or, for the loops Ctrl-C may stop, ::interruptible.
#include <algorithm>
#include <cstdint>
#include <optional>
#include <vector>

#include "bindings/bitgen.h"
#include "bindings/py_network.h"

namespace vgp::bind {

template <typename T>
void def_network_passes(py::class_<PyNetwork<T>>& cls) {
  using PN = PyNetwork<T>;
  using Stop = std::function<bool()>;
  cls
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
             return train_result(s.interruptible([&](const Stop& stop, bool* stopped) {
               return s.net->train_epoch(px, py_, n, yw, pp, batch_size, ps, record,
                                         halt_on_nonfinite, stop, stopped);
             }));
           },
           py::arg("x").noconvert(), py::arg("y").noconvert(), py::arg("perm").noconvert(),
           py::arg("batch_size"), py::arg("seeds").noconvert(), py::arg("record") = 0,
           py::arg("halt_on_nonfinite") = false)
      .def("train_epochs",
           [](PN& s, carray<T> x, carray<T> y, std::optional<carray<std::int64_t>> perms,
              index_t batch_size, std::optional<carray<std::uint64_t>> seeds,
              carray<double> out, std::optional<py::capsule> bitgen) {
             const char* op = "train_epochs";
             s.check_xy(op, x, y);
             const index_t n = x.shape(0);
             if (batch_size < 1) throw std::invalid_argument("train_epochs: batch_size must be >= 1");
             require_ndim(op, "out", out, 2);
             const index_t epochs = out.shape(0);
             require_shape(op, "out", out, {epochs, 3});
             double* po = out_ptr(op, "out", out);
             require_apart(op, {{"out", &out}}, {{"x", &x}, {"y", &y}});
             const index_t batches = (n + batch_size - 1) / batch_size;
             if (perms) {
               require_shape(op, "perms", *perms, {epochs, n});
               check_index_values(op, *perms, n);
               require_distinct(op, "out", out, "perms", *perms);
             }
             if (seeds) {
               require_shape(op, "seeds", *seeds, {epochs, batches});
               require_distinct(op, "out", out, "seeds", *seeds);
             }
             // Orders drawn natively, each right before its epoch (the
             // caller holds the generator's lock): no block of orders to
             // allocate, check and, after Ctrl-C, give back.
             std::function<void(std::int64_t*)> draw;
             if (bitgen) {
               if (perms) throw std::invalid_argument("train_epochs: pass perms or bitgen, not both");
               const NumpyBitGen g = numpy_bitgen(*bitgen, op);
               draw = [g, n](std::int64_t* row) { draw_order(g, row, n); };
             }
             const T* px = x.data();
             const T* py_ = y.data();
             const std::int64_t* pp = perms ? perms->data() : nullptr;
             const std::uint64_t* ps = seeds ? seeds->data() : nullptr;
             const index_t yw = y.shape(1);
             // Each completed epoch's (loss, metric, rows) lands in out also
             // when Ctrl-C ends the call: the sums over its rows divided by
             // max(rows, 1), the double divisions of the epoch logs that
             // train_epoch's sums give in Python; rows is -2 for the epoch
             // Ctrl-C stopped after its draws (its order drawn here, its
             // seeds used), -1 for those after it.
             const index_t done = s.interruptible([&](const Stop& stop, bool* stopped) {
               std::vector<StepResult> results(static_cast<std::size_t>(epochs));
               const index_t done = s.net->train_epochs(px, py_, n, yw, pp, epochs, batch_size,
                                                        ps, stop, stopped, results.data(), draw);
               for (index_t e = 0; e < epochs; ++e) {
                 const StepResult& r = results[static_cast<std::size_t>(e)];
                 const double rows = static_cast<double>(std::max<index_t>(r.rows, 1));
                 po[3 * e] = e < done ? r.loss_sum / rows : 0.0;
                 po[3 * e + 1] = e < done ? r.metric_sum / rows : 0.0;
                 po[3 * e + 2] = e < done ? static_cast<double>(r.rows) : e == done ? -2.0 : -1.0;
               }
               return done;
             });
             // A Ctrl-C that came after the last poll is raised here, out
             // filled, rather than at some line of the caller's bookkeeping
             // of the epochs (the History would miss them).
             if (PyErr_CheckSignals() != 0) throw py::error_already_set();
             return done;
           },
           py::arg("x").noconvert(), py::arg("y").noconvert(), py::arg("perms").noconvert(),
           py::arg("batch_size"), py::arg("seeds").noconvert(), py::arg("out").noconvert(),
           py::arg("bitgen") = py::none())
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
             return train_result(s.interruptible([&](const Stop& stop, bool* stopped) {
               return s.net->train_batch(px, py_, yw, pi, count, seed, record, halt_on_nonfinite,
                                         stop, stopped, batch_index);
             }));
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
               throw std::invalid_argument(
                   "evaluate: mode must be 'infer' or 'probe', received 'train'");
             }
             const T* px = x.data();
             const T* py_ = y.data();
             const index_t n = x.shape(0), yw = y.shape(1);
             return eval_result(s.interruptible([&](const Stop& stop, bool* stopped) {
               return s.net->evaluate(px, py_, n, yw, batch_size, stop, stopped, md);
             }));
           },
           py::arg("x").noconvert(), py::arg("y").noconvert(), py::arg("batch_size"),
           py::arg("mode") = "infer")
      .def("predict",
           [](PN& s, carray<T> x, index_t batch_size, const std::string& mode) {
             s.check_x("predict", x);
             if (batch_size < 1) throw std::invalid_argument("predict: batch_size must be >= 1");
             const Mode md = parse_mode(mode);
             const index_t n = x.shape(0);
             carray<T> out = new_matrix<T>(n, s.net->out_features());
             const T* px = x.data();
             T* po = out.mutable_data();
             s.interruptible([&](const Stop& stop, bool* stopped) {
               if (n > 0) s.net->predict(px, n, batch_size, po, md, stop, stopped);
             });
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
             return eval_result(
                 s.locked([&] { return s.net->compute_gradients(px, py_, n, yw, md, record); }));
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
             carray<T> dx = new_matrix<T>(n, s.net->in_features());
             const T* px = x.data();
             const T* pd = dy.data();
             T* po = dx.mutable_data();
             s.locked([&] { s.net->input_gradient(px, pd, n, po, md); });
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
             s.locked([&] { s.net->layer_outputs(px, n, md, outs); });
             py::list result;
             for (const auto& o : outs) {
               carray<T> a = new_matrix<T>(n, static_cast<index_t>(o.size()) / n);
               std::copy(o.begin(), o.end(), a.mutable_data());
               result.append(a);
             }
             return result;
           },
           py::arg("x").noconvert(), py::arg("mode") = "infer");
}

template void def_network_passes<float>(py::class_<PyNetwork<float>>&);
template void def_network_passes<double>(py::class_<PyNetwork<double>>&);

}  // namespace vgp::bind
