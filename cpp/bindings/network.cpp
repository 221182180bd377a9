// Binding of the native executor as Network32 / Network64: one template,
// bind_network_dtype<T>, registers the class for each dtype (its training and
// probe methods come from network_passes.cpp; the locking rules are in
// py_network.h).
//
// Parameters and gradients are exposed as numpy arrays that VIEW the
// network's own memory (their base object is the network), so Python layers
// read and write weights without copies. The buffers are allocated once when
// the network is built and never move.
#include <algorithm>
#include <cstdint>
#include <vector>

#include "bindings/py_network.h"

namespace vgp::bind {
namespace {

// The recorded batches as (records (batches, rows, kRowWidth), the mean loss
// of each batch, its index in its epoch), copied once, from the recorder into
// new arrays; needs the GIL and the network's mutex. One loss per recorded
// batch (none when the network has no rows).
py::tuple recorded_arrays(const StatsRecorder& st) {
  const py::ssize_t b = static_cast<py::ssize_t>(st.losses.size());
  py::array_t<double> rec(
      {b, static_cast<py::ssize_t>(st.rows), static_cast<py::ssize_t>(kRowWidth)});
  std::copy(st.record.begin(), st.record.end(), rec.mutable_data());
  py::array_t<double> loss(b);
  std::copy(st.losses.begin(), st.losses.end(), loss.mutable_data());
  py::array_t<std::int64_t> batch_ids(b);
  std::copy(st.batch_ids.begin(), st.batch_ids.end(), batch_ids.mutable_data());
  return py::make_tuple(rec, loss, batch_ids);
}

template <typename T>
py::array view_of(const Slice<T>& buf, const std::vector<index_t>& shape, py::handle owner) {
  std::vector<py::ssize_t> sh(shape.begin(), shape.end());
  return py::array_t<T>(sh, buf.data(), owner);
}

template <typename T>
void bind_network_dtype(py::module_& m, const char* name) {
  using PN = PyNetwork<T>;
  py::class_<PN> cls(m, name);
  cls.def(py::init<const py::list&, index_t, int>(), py::arg("specs"), py::arg("in_features"),
          py::arg("stat_rows") = 0)
      .def_property_readonly("in_features", [](PN& s) { return s.net->in_features(); })
      .def_property_readonly("out_features", [](PN& s) { return s.net->out_features(); })
      .def_property_readonly("stat_rows", [](PN& s) { return s.net->stat_rows(); })
      .def_property_readonly(
          "optimizer_steps",
          [](PN& s) { return s.locked([&] { return s.net->optimizer_steps(); }); })
      .def_property_readonly(
          "loss_fused", [](PN& s) { return s.locked([&] { return s.net->loss_fused(); }); })
      .def_property_readonly("layer_widths", [](PN& s) { return s.net->layer_widths(); })
      .def_property_readonly("narrow_pass", [](PN& s) { return s.net->narrow_pass(); })
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
             const LossKind l = parse_loss(loss);
             const MetricKind k = parse_metric(metric);
             s.locked([&] { s.net->set_loss(l, k); });
           },
           py::arg("loss"), py::arg("metric"))
      .def("set_optimizer",
           [](PN& s, const py::dict& d) {
             const OptimizerSpec o = parse_optimizer(d);
             s.locked([&] { s.net->set_optimizer(o); });
           },
           py::arg("config"))
      .def("set_learning_rate",
           [](PN& s, double learning_rate) {
             const double lr = check_learning_rate(learning_rate);
             s.locked([&] { s.net->set_learning_rate(lr); });
           },
           py::arg("learning_rate"),
           "A new learning rate for the next steps; the optimizer's state is kept.")
      .def("stats",
           [](PN& s) {
             return s.locked_with_gil([&] { return recorded_arrays(s.net->stats()); });
           },
           "Recorded statistics: (batches, rows, fields), the mean loss of each batch and its "
           "index in its epoch (-1 for a probe).")
      .def("take_stats",
           [](PN& s) {
             // stats() and clear_stats() in one call: fit collects the
             // records of many epochs at a time with it.
             return s.locked_with_gil([&] {
               py::tuple out = recorded_arrays(s.net->stats());
               s.net->stats().clear();
               return out;
             });
           },
           "As stats(), and clears them (stats() then clear_stats()).")
      .def("clear_stats", [](PN& s) { s.locked([&] { s.net->stats().clear(); }); });
  def_network_passes<T>(cls);
}

}  // namespace

void bind_network(py::module_& m) {
  bind_network_dtype<float>(m, "Network32");
  bind_network_dtype<double>(m, "Network64");
}

}  // namespace vgp::bind
