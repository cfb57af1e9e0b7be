#pragma once

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "lamina/autograd/variable.hpp"
#include "lamina/core/error.hpp"
#include "lamina/core/tensor.hpp"
#include "lamina/losses/losses.hpp"
#include "lamina/metrics/metrics.hpp"
#include "lamina/models/batch_source.hpp"
#include "lamina/models/compile_args.hpp"
#include "lamina/models/history.hpp"
#include "lamina/ops/arithmetic.hpp"

namespace lamina::detail {

/// The outputs of a functional model of several outputs, as compile and fit see them (Keras's
/// `loss=[...]`, `loss_weights=[...]`): each output's loss, weight, metrics and running loss
/// sum. fit carries the targets of all outputs side by side in one tensor (pack_columns); the
/// heads remember the per-sample shapes to take them apart. Empty for a model of one output.
template <class T>
class OutputHeads {
 public:
  bool empty() const { return losses_.empty(); }
  std::size_t size() const { return losses_.size(); }
  const std::vector<std::unique_ptr<Loss<T>>>& losses() const { return losses_; }
  const std::vector<double>& weights() const { return weights_; }

  void clear() {
    losses_.clear();
    metrics_.clear();
    weights_.clear();
    sums_.clear();
  }
  /// One loss per output, their weights (empty: all 1) and the metrics computed for each
  /// output; `model` names the model in errors.
  void compile(const std::string& model, std::vector<std::unique_ptr<Loss<T>>> losses,
               const std::vector<MetricArg<T>>& metrics, std::vector<double> weights) {
    check<ValueError>(weights.empty() || weights.size() == losses.size(), model, ": compile got ",
                      weights.size(), " loss_weights for ", losses.size(), " outputs");
    for (double w : weights)
      check<ValueError>(std::isfinite(w) && w >= 0.0, model, ": loss weight ", w,
                        " is not a finite, non-negative number");
    if (weights.empty()) weights.assign(losses.size(), 1.0);
    metrics_.clear();
    for (const auto& loss : losses) {
      std::vector<std::unique_ptr<Metric<T>>> each;
      for (const MetricArg<T>& m : metrics) each.push_back(m.make(loss->name()));
      metrics_.push_back(std::move(each));
    }
    losses_ = std::move(losses);
    weights_ = std::move(weights);
    sums_.assign(losses_.size(), 0.0);
  }

  /// The targets of several outputs side by side, remembering their per-sample shapes.
  Tensor<T> pack_targets(const std::vector<Tensor<T>>& y) const {
    target_shapes_.clear();
    for (const Tensor<T>& t : y)
      target_shapes_.push_back(Shape(std::vector<index_t>(t.shape().begin() + 1, t.shape().end())));
    return pack_columns(y);
  }
  /// Checks each output's targets in the packed y against its loss, for outputs of the
  /// per-sample shapes `outputs` and `samples` samples.
  void check_targets(index_t samples, const std::vector<Shape>& outputs, const Tensor<T>& y) const {
    const std::vector<Tensor<T>> ys = unpack_columns(y, target_shapes_);
    for (std::size_t i = 0; i < ys.size(); ++i) {
      std::vector<index_t> dims{samples};
      dims.insert(dims.end(), outputs[i].begin(), outputs[i].end());
      losses_[i]->check_targets(Shape(std::move(dims)), ys[i]);
    }
  }

  /// sum_i weight_i loss_i of a batch's outputs against its packed targets y (weighted per
  /// sample by w when given); records each output's loss and updates its metrics.
  Variable<T> loss(const std::vector<Variable<T>>& outputs, const Tensor<T>& y,
                   const Tensor<T>* w) {
    const std::vector<Tensor<T>> ys = unpack_columns(y, target_shapes_);
    const double batch = double(y.dim(0));
    Variable<T> total;
    for (std::size_t i = 0; i < outputs.size(); ++i) {
      Loss<T>& loss = *losses_[i];
      const Variable<T> li = w ? loss(outputs[i], ys[i], *w) : loss(outputs[i], ys[i]);
      sums_[i] += double(li.item()) * batch;
      const Variable<T> weighted = weights_[i] == 1.0 ? li : mul(li, T(weights_[i]));
      total = i == 0 ? weighted : add(total, weighted);
      for (auto& m : metrics_[i]) m->update(outputs[i].value(), ys[i], w);
    }
    return total;
  }

  void reset() {
    std::fill(sums_.begin(), sums_.end(), 0.0);
    for (auto& each : metrics_)
      for (auto& m : each) m->reset();
  }
  /// Adds "<output>_loss" (the running mean over `samples` samples) and "<output>_<metric>" for
  /// each output, named by `output_names`.
  void add_logs(Logs& logs, const std::vector<std::string>& output_names, double samples) const {
    for (std::size_t i = 0; i < losses_.size(); ++i) {
      const std::string prefix = output_names[i] + "_";
      logs[prefix + "loss"] = samples > 0 ? sums_[i] / samples : 0.0;
      for (const auto& m : metrics_[i]) logs[prefix + m->name()] = m->result();
    }
  }

 private:
  std::vector<std::unique_ptr<Loss<T>>> losses_;
  std::vector<double> weights_;
  std::vector<std::vector<std::unique_ptr<Metric<T>>>> metrics_;
  std::vector<double> sums_;
  mutable std::vector<Shape> target_shapes_;
};

}  // namespace lamina::detail
