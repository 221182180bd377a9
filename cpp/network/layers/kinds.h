// The factory of each layer kind (one file per kind in this folder), called
// by make_layer once it has checked what every kind shares (input width,
// activation code) and looked the kind up in kLayerKindNames. Each checks its
// own spec fields and returns the layer behind the common interface.
#pragma once

#include <cstdint>
#include <memory>

#include "network/layer.h"

namespace vgp::layers {

template <typename T>
std::unique_ptr<Layer<T>> make_dense(const LayerSpec& spec, index_t in, std::uint64_t& salt);
template <typename T>
std::unique_ptr<Layer<T>> make_activation(const LayerSpec& spec, index_t in, std::uint64_t& salt);
template <typename T>
std::unique_ptr<Layer<T>> make_batchnorm(const LayerSpec& spec, index_t in, std::uint64_t& salt);
template <typename T>
std::unique_ptr<Layer<T>> make_dropout(const LayerSpec& spec, index_t in, std::uint64_t& salt);
template <typename T>
std::unique_ptr<Layer<T>> make_residual(const LayerSpec& spec, index_t in, std::uint64_t& salt);

}  // namespace vgp::layers

// Instantiates a kind's factory for float and double (in its own file).
#define VGP_INSTANTIATE_LAYER_FACTORY(name)                                                   \
  template std::unique_ptr<::vgp::Layer<float>> name<float>(const ::vgp::LayerSpec&,          \
                                                            ::vgp::index_t, std::uint64_t&);  \
  template std::unique_ptr<::vgp::Layer<double>> name<double>(const ::vgp::LayerSpec&,        \
                                                              ::vgp::index_t, std::uint64_t&);
