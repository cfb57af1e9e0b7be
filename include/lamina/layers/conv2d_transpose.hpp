#pragma once

#include <array>
#include <memory>
#include <string>
#include <utility>

#include "lamina/layers/conv2d.hpp"
#include "lamina/ops/conv_transpose.hpp"

namespace lamina {

/// Options of Conv2DTranspose: the same keyword arguments and defaults as Conv2D's.
using Conv2DTransposeLayerOptions = Conv2DLayerOptions;

/// 2-D transposed convolution over channels_last images (Keras Conv2DTranspose, without
/// output_padding and dilation_rate): activation(conv2d_transpose(x, kernel) + bias).
/// input: [batch, height, width, channels]; kernel: [kh, kw, filters, channels] (Keras's
/// layout); output: [batch, out_height, out_width, filters] with out = in * stride for "same"
/// and in * stride + max(kernel - stride, 0) for "valid" padding.
template <class T = float>
class Conv2DTranspose : public detail::ConvLayer2D<T> {
 public:
  Conv2DTranspose(index_t filters, Size2 kernel_size, Conv2DTransposeLayerOptions options = {})
      : detail::ConvLayer2D<T>("Conv2DTranspose", filters, kernel_size, std::move(options)) {}

  std::string type() const override { return "Conv2DTranspose"; }
  /// The layer get_config() describes.
  static std::shared_ptr<Conv2DTranspose> from_config(const Json& config) {
    return detail::ConvLayer2D<T>::template from_config_as<Conv2DTranspose>(config,
                                                                            "Conv2DTranspose");
  }

 protected:
  Shape kernel_shape(index_t channels) const override {
    return {this->kernel_size_[0], this->kernel_size_[1], this->filters_, channels};
  }
  Variable<T> conv(const Variable<T>& x, const Variable<T>& kernel, const Variable<T>* bias,
                   const Conv2DOptions& options) const override {
    return detail::conv2d_transpose(x, kernel, bias, options);
  }
};

}  // namespace lamina
