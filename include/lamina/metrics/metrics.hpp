#pragma once

/// Keras's metrics by name: make_metric("auc", loss) for compile's strings, and
/// make_metric(name, loss, config) to rebuild a metric object from its get_config().

#include <memory>
#include <string>
#include <vector>

#include "lamina/core/config.hpp"
#include "lamina/core/registry.hpp"
#include "lamina/metrics/accuracy.hpp"
#include "lamina/metrics/confusion.hpp"
#include "lamina/metrics/metric.hpp"

namespace lamina {

/// Builds a metric from the compiled loss's name (which resolves "accuracy") and the options of
/// a get_config() (empty for a metric named by string).
template <class T>
using MetricFactory = std::unique_ptr<Metric<T>> (*)(const std::string& loss_name,
                                                     ConfigReader& config);

namespace detail {

/// The factory of a metric class whose only option is its name (default `Name`).
template <class T, template <class> class M, const char* Name>
std::unique_ptr<Metric<T>> named_metric(const std::string&, ConfigReader& r) {
  return std::make_unique<M<T>>(r.get<std::string>("name", Name));
}
template <class T, template <class> class M>
std::unique_ptr<Metric<T>> top_k_metric(const std::string&, ConfigReader& r) {
  return std::make_unique<M<T>>(
      TopKOptions{.k = r.get<index_t>("k", 5), .name = r.get<std::string>("name", "")});
}
template <class T, template <class> class M>
std::unique_ptr<Metric<T>> threshold_metric(const std::string&, ConfigReader& r) {
  return std::make_unique<M<T>>(PrecisionRecallOptions{
      .thresholds = r.get<double>("thresholds", 0.5), .name = r.get<std::string>("name", "")});
}
template <class T, const char* Name>
std::unique_ptr<Metric<T>> accuracy_metric(const std::string& loss, ConfigReader& r) {
  const bool binary = r.get<bool>("binary", loss == "binary_crossentropy");
  return std::make_unique<Accuracy<T>>(binary, r.get<std::string>("name", Name));
}
template <class T, bool Squared>
std::unique_ptr<Metric<T>> mean_error_metric(const std::string&, ConfigReader&) {
  return std::make_unique<MeanError<T>>(Squared);
}
template <class T>
std::unique_ptr<Metric<T>> binary_accuracy_metric(const std::string&, ConfigReader& r) {
  return std::make_unique<BinaryAccuracy<T>>(
      BinaryAccuracyOptions{.threshold = r.get<double>("threshold", 0.5),
                            .name = r.get<std::string>("name", "binary_accuracy")});
}
template <class T>
std::unique_ptr<Metric<T>> auc_metric(const std::string&, ConfigReader& r) {
  const AUCOptions d;
  return std::make_unique<AUC<T>>(
      AUCOptions{.num_thresholds = r.get<index_t>("num_thresholds", d.num_thresholds),
                 .curve = r.get<std::string>("curve", d.curve),
                 .summation_method = r.get<std::string>("summation_method", d.summation_method),
                 .from_logits = r.get<bool>("from_logits", d.from_logits),
                 .name = r.get<std::string>("name", d.name)});
}

inline constexpr char kAccuracy[] = "accuracy";
inline constexpr char kAcc[] = "acc";
inline constexpr char kCategoricalAccuracy[] = "categorical_accuracy";
inline constexpr char kSparseCategoricalAccuracy[] = "sparse_categorical_accuracy";

}  // namespace detail

/// The metrics compile knows by name: Keras's strings (snake_case, with the aliases "acc",
/// "mae", "mse", ...) and Keras's class names ("AUC", "Precision"), which Keras accepts too.
template <class T>
Registry<MetricFactory<T>>& metric_registry() {
  using namespace detail;
  static Registry<MetricFactory<T>> registry(
      "metric",
      {{"accuracy", accuracy_metric<T, kAccuracy>},
       {"acc", accuracy_metric<T, kAcc>},
       {"binary_accuracy", binary_accuracy_metric<T>},
       {"BinaryAccuracy", binary_accuracy_metric<T>},
       {"categorical_accuracy", named_metric<T, CategoricalAccuracy, kCategoricalAccuracy>},
       {"CategoricalAccuracy", named_metric<T, CategoricalAccuracy, kCategoricalAccuracy>},
       {"sparse_categorical_accuracy",
        named_metric<T, SparseCategoricalAccuracy, kSparseCategoricalAccuracy>},
       {"SparseCategoricalAccuracy",
        named_metric<T, SparseCategoricalAccuracy, kSparseCategoricalAccuracy>},
       {"top_k_categorical_accuracy", top_k_metric<T, TopKCategoricalAccuracy>},
       {"TopKCategoricalAccuracy", top_k_metric<T, TopKCategoricalAccuracy>},
       {"sparse_top_k_categorical_accuracy", top_k_metric<T, SparseTopKCategoricalAccuracy>},
       {"SparseTopKCategoricalAccuracy", top_k_metric<T, SparseTopKCategoricalAccuracy>},
       {"precision", threshold_metric<T, Precision>},
       {"Precision", threshold_metric<T, Precision>},
       {"recall", threshold_metric<T, Recall>},
       {"Recall", threshold_metric<T, Recall>},
       {"auc", auc_metric<T>},
       {"AUC", auc_metric<T>},
       {"mae", mean_error_metric<T, false>},
       {"mean_absolute_error", mean_error_metric<T, false>},
       {"mse", mean_error_metric<T, true>},
       {"mean_squared_error", mean_error_metric<T, true>}});
  return registry;
}

/// The metric names make_metric accepts, sorted.
template <class T = float>
std::vector<std::string> metric_names() {
  return metric_registry<T>().names();
}

/// The metric `name` with the options of `config` (a get_config(), or empty for Keras's
/// defaults); `loss_name` resolves "accuracy" (binary for binary cross-entropy). ValueError
/// listing the valid names for an unknown name, or naming an unknown or invalid option.
template <class T>
std::unique_ptr<Metric<T>> make_metric(const std::string& name, const std::string& loss_name,
                                       const Json& config = Json::object()) {
  const MetricFactory<T> factory = metric_registry<T>().get(name);
  ConfigReader r(config, "metric " + name);
  std::unique_ptr<Metric<T>> metric = factory(loss_name, r);
  r.finish();
  return metric;
}

}  // namespace lamina
