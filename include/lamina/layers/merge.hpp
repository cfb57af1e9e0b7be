#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "lamina/core/broadcast.hpp"
#include "lamina/layers/layer.hpp"
#include "lamina/ops/arithmetic.hpp"
#include "lamina/ops/shape_ops.hpp"

namespace lamina {

/// Options every merge layer has (Keras's name; input_shape is not an option of theirs).
struct MergeOptions {
  std::string name{};
};

/// Base of the layers that combine a list of inputs into one (Keras's Merge): Add, Subtract,
/// Multiply, Average, Maximum, Minimum, Concatenate. Called with a list, eagerly on Variables or
/// symbolically on the functional API's tensors: `Add<float>()({x, shortcut})`. The elementwise
/// ones broadcast per-sample shapes as NumPy does (Keras's rule); a one-input call is an error.
template <class T>
class Merge : public Layer<T> {
 public:
  Variable<T> call_list(const std::vector<Variable<T>>& xs) override {
    check<ValueError>(xs.size() >= min_inputs() && xs.size() <= max_inputs(), this->label(),
                      ": expected ", min_inputs() == max_inputs() ? "" : "at least ", min_inputs(),
                      " inputs, got ", xs.size());
    std::vector<Shape> shapes;
    for (std::size_t i = 0; i < xs.size(); ++i) {
      check<ShapeError>(xs[i].rank() >= 1 && xs[i].dim(0) == xs[0].dim(0), this->label(),
                        ": input ", i, " has shape ", xs[i].shape(), " but input 0 has shape ",
                        xs[0].shape(), " (the batch sizes must agree)");
      shapes.push_back(Shape(std::vector<index_t>(xs[i].shape().begin() + 1, xs[i].shape().end())));
    }
    if (this->built()) {
      check<ShapeError>(shapes == input_shapes_, this->label(), ": already built for inputs ",
                        shapes_str(input_shapes_), ", got ", shapes_str(shapes));
    } else {
      pending_ = shapes;
      this->build(shapes.front());
      input_shapes_ = std::move(pending_);
    }
    return merge(xs);
  }
  /// The per-sample shapes of the inputs it was built for.
  const std::vector<Shape>& input_shapes() const { return input_shapes_; }

 protected:
  explicit Merge(const std::string& name) : Layer<T>(name, Shape{}) {}

  virtual std::size_t min_inputs() const { return 2; }
  virtual std::size_t max_inputs() const { return static_cast<std::size_t>(-1); }
  /// The per-sample output shape for inputs of `shapes`; elementwise merges broadcast them.
  virtual Shape output_shape_for(const std::vector<Shape>& shapes) const {
    Shape out = shapes.front();
    for (std::size_t i = 1; i < shapes.size(); ++i)
      out = detail::in_option(this->label(), "inputs",
                              [&] { return broadcast_shapes(out, shapes[i], "merge"); });
    return out;
  }
  /// Combines the inputs (their shapes checked).
  virtual Variable<T> merge(const std::vector<Variable<T>>& xs) = 0;

  Shape build_impl(const Shape&, Generator&) override {
    check<ValueError>(!pending_.empty(), this->label(),
                      ": a merge layer is called on a list of inputs, e.g. layer({a, b})");
    try {
      return output_shape_for(pending_);
    } catch (const ShapeError& e) {
      throw ShapeError(this->label() + ": inputs " + shapes_str(pending_) +
                       " do not fit: " + e.what());
    }
  }
  Variable<T> forward(const Variable<T>&) override {
    detail::fail<ValueError>(this->label(),
                             ": a merge layer is called on a list of inputs, e.g. layer({a, b})");
  }

  static std::string shapes_str(const std::vector<Shape>& shapes) {
    std::string s;
    for (const Shape& shape : shapes) s += (s.empty() ? "" : ", ") + batch_shape_str(shape);
    return s;
  }

 private:
  std::vector<Shape> input_shapes_, pending_;
};

namespace detail {
/// from_config for a merge layer whose only option is its name.
template <class L>
std::shared_ptr<L> merge_from_config(const Json& config, const char* type) {
  ConfigReader r(config, type);
  MergeOptions o{.name = r.get<std::string>("name", "")};
  return finish_from_config(r, L(std::move(o)));
}
}  // namespace detail

/// The sum of its inputs (Keras's Add): the skip connection of a residual block.
template <class T = float>
class Add : public Merge<T> {
 public:
  explicit Add(MergeOptions options = {}) : Merge<T>(options.name) {}
  std::string type() const override { return "Add"; }
  static std::shared_ptr<Add> from_config(const Json& c) {
    return detail::merge_from_config<Add>(c, "Add");
  }

 protected:
  Variable<T> merge(const std::vector<Variable<T>>& xs) override {
    Variable<T> y = xs[0];
    for (std::size_t i = 1; i < xs.size(); ++i) y = add(y, xs[i]);
    return y;
  }
};

/// inputs[0] - inputs[1] (Keras's Subtract: exactly two inputs).
template <class T = float>
class Subtract : public Merge<T> {
 public:
  explicit Subtract(MergeOptions options = {}) : Merge<T>(options.name) {}
  std::string type() const override { return "Subtract"; }
  static std::shared_ptr<Subtract> from_config(const Json& c) {
    return detail::merge_from_config<Subtract>(c, "Subtract");
  }

 protected:
  std::size_t max_inputs() const override { return 2; }
  Variable<T> merge(const std::vector<Variable<T>>& xs) override { return sub(xs[0], xs[1]); }
};

/// The elementwise product of its inputs (Keras's Multiply).
template <class T = float>
class Multiply : public Merge<T> {
 public:
  explicit Multiply(MergeOptions options = {}) : Merge<T>(options.name) {}
  std::string type() const override { return "Multiply"; }
  static std::shared_ptr<Multiply> from_config(const Json& c) {
    return detail::merge_from_config<Multiply>(c, "Multiply");
  }

 protected:
  Variable<T> merge(const std::vector<Variable<T>>& xs) override {
    Variable<T> y = xs[0];
    for (std::size_t i = 1; i < xs.size(); ++i) y = mul(y, xs[i]);
    return y;
  }
};

/// The elementwise mean of its inputs (Keras's Average).
template <class T = float>
class Average : public Merge<T> {
 public:
  explicit Average(MergeOptions options = {}) : Merge<T>(options.name) {}
  std::string type() const override { return "Average"; }
  static std::shared_ptr<Average> from_config(const Json& c) {
    return detail::merge_from_config<Average>(c, "Average");
  }

 protected:
  Variable<T> merge(const std::vector<Variable<T>>& xs) override {
    Variable<T> y = xs[0];
    for (std::size_t i = 1; i < xs.size(); ++i) y = add(y, xs[i]);
    return mul(y, T(1) / T(xs.size()));
  }
};

/// The elementwise maximum of its inputs (Keras's Maximum); ties send the gradient to the
/// earlier input.
template <class T = float>
class Maximum : public Merge<T> {
 public:
  explicit Maximum(MergeOptions options = {}) : Merge<T>(options.name) {}
  std::string type() const override { return "Maximum"; }
  static std::shared_ptr<Maximum> from_config(const Json& c) {
    return detail::merge_from_config<Maximum>(c, "Maximum");
  }

 protected:
  Variable<T> merge(const std::vector<Variable<T>>& xs) override {
    Variable<T> y = xs[0];
    for (std::size_t i = 1; i < xs.size(); ++i) y = maximum(y, xs[i]);
    return y;
  }
};

/// The elementwise minimum of its inputs (Keras's Minimum): -max(-a, -b).
template <class T = float>
class Minimum : public Merge<T> {
 public:
  explicit Minimum(MergeOptions options = {}) : Merge<T>(options.name) {}
  std::string type() const override { return "Minimum"; }
  static std::shared_ptr<Minimum> from_config(const Json& c) {
    return detail::merge_from_config<Minimum>(c, "Minimum");
  }

 protected:
  Variable<T> merge(const std::vector<Variable<T>>& xs) override {
    Variable<T> y = neg(xs[0]);
    for (std::size_t i = 1; i < xs.size(); ++i) y = maximum(y, neg(xs[i]));
    return neg(y);
  }
};

/// Options of Concatenate.
struct ConcatenateOptions {
  /// The per-sample-and-batch axis to join along; -1 is the last (Keras's default).
  int axis = -1;
  std::string name{};
};

/// Joins its inputs along `axis` (Keras's Concatenate); the other sizes must agree.
template <class T = float>
class Concatenate : public Merge<T> {
 public:
  explicit Concatenate(ConcatenateOptions options = {})
      : Merge<T>(options.name), axis_(options.axis) {}
  /// Keras's `Concatenate(axis=1)`.
  explicit Concatenate(int axis, MergeOptions options = {})
      : Concatenate(ConcatenateOptions{.axis = axis, .name = options.name}) {}
  std::string type() const override { return "Concatenate"; }
  int axis() const { return axis_; }
  Json get_config() const override {
    Json c = Layer<T>::get_config();
    c["axis"] = axis_;
    return c;
  }
  static std::shared_ptr<Concatenate> from_config(const Json& config) {
    ConfigReader r(config, "Concatenate");
    ConcatenateOptions o{.axis = r.get<int>("axis", -1), .name = r.get<std::string>("name", "")};
    return detail::finish_from_config(r, Concatenate(std::move(o)));
  }

 protected:
  std::size_t min_inputs() const override { return 1; }
  Shape output_shape_for(const std::vector<Shape>& shapes) const override {
    // The axis counts the batch axis as Keras's does (axis 1 is the first per-sample axis).
    const int rank = shapes.front().rank() + 1;
    check<ValueError>(axis_ != 0 && axis_ >= -rank && axis_ < rank, this->label(), ": axis ", axis_,
                      " is out of range for inputs of rank ", rank,
                      " (the batch axis 0 cannot be joined)");
    const int ax = (axis_ < 0 ? axis_ + rank : axis_) - 1;
    std::vector<index_t> dims = shapes.front().dims();
    dims[static_cast<std::size_t>(ax)] = 0;
    for (std::size_t i = 0; i < shapes.size(); ++i) {
      bool fits = shapes[i].rank() == rank - 1;
      for (int j = 0; fits && j < rank - 1; ++j) fits = j == ax || shapes[i][j] == shapes[0][j];
      check<ShapeError>(fits, this->label(), ": inputs must agree except along axis ", axis_,
                        ", but input ", i, " is ", batch_shape_str(shapes[i]), " and input 0 is ",
                        batch_shape_str(shapes[0]));
      dims[static_cast<std::size_t>(ax)] += shapes[i][ax];
    }
    return Shape(std::move(dims));
  }
  Variable<T> merge(const std::vector<Variable<T>>& xs) override { return concat(xs, axis_); }

 private:
  int axis_;
};

}  // namespace lamina
