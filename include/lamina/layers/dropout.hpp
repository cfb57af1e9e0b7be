#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "lamina/layers/layer.hpp"
#include "lamina/ops/arithmetic.hpp"

namespace lamina {

/// Options of Dropout.
struct DropoutOptions {
  /// Seed of the masks; by default the layer's seed, which the model sets.
  std::optional<std::uint64_t> seed{};
  Shape input_shape{};
  std::string name{};
};

/// Inverted dropout (Srivastava et al. 2014): in training, zeroes each element with probability
/// `rate` and scales the others by 1 / (1 - rate); in inference, the identity.
/// input: [batch, ...]; output: the same shape.
template <class T = float>
class Dropout : public Layer<T> {
 public:
  explicit Dropout(double rate, DropoutOptions options = {})
      : Layer<T>(options.name, options.input_shape), rate_(rate) {
    check<ValueError>(rate >= 0.0 && rate < 1.0, "Dropout: rate must be in [0, 1), got ", rate);
    if (options.seed) this->set_seed(*options.seed);
  }
  std::string type() const override { return "Dropout"; }
  double rate() const { return rate_; }
  Json get_config() const override {
    Json c = Layer<T>::get_config();
    c["rate"] = rate_;
    return c;
  }
  /// The layer get_config() describes.
  static std::shared_ptr<Dropout> from_config(const Json& config) {
    ConfigReader r(config, "Dropout");
    DropoutOptions o;
    detail::read_common_options(r, o);
    const auto rate = r.get<double>("rate");
    return detail::finish_from_config(r, Dropout(rate, std::move(o)));
  }

 protected:
  Shape build_impl(const Shape& input_shape, Generator&) override { return input_shape; }
  Variable<T> forward(const Variable<T>& x) override {
    if (!this->training() || rate_ == 0.0) return x;
    Generator& gen = this->call_generator();
    Tensor<T> mask = Tensor<T>::empty(x.shape());
    const T keep_scale = T(1.0 / (1.0 - rate_));
    for (T& m : mask) m = gen.uniform() < rate_ ? T(0) : keep_scale;
    return mul(x, Variable<T>(std::move(mask)));
  }

 private:
  double rate_;
};

}  // namespace lamina
