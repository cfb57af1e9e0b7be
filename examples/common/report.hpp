#pragma once

// What an example leaves behind: its History as CSV, pictures, and the CI check that the loss
// fell. Needs lamina/io/image.hpp, whose stb implementation common/image_implementation.cpp
// provides (the library lamina_examples_image).

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <fstream>
#include <functional>
#include <iomanip>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <lamina/lamina.hpp>

#include "lamina/io/image.hpp"

#include "common/cli.hpp"
#include "common/data.hpp"

namespace lamina::examples {

/// Wall time of each epoch, through FitOptions::on_epoch_end:
///   EpochTimer timer;  model.fit(x, y, {..., .on_epoch_end = timer.callback()});
class EpochTimer {
 public:
  EpochTimer() : last_(Clock::now()) {}
  /// Restarts the clock (call just before fit when setup happened since construction).
  void start() { last_ = Clock::now(); }
  std::function<void(int, const Logs&)> callback() {
    return [this](int, const Logs&) {
      const auto now = Clock::now();
      seconds_.push_back(std::chrono::duration<double>(now - last_).count());
      last_ = now;
    };
  }
  const std::vector<double>& seconds() const { return seconds_; }
  double total() const {
    double t = 0;
    for (double s : seconds_) t += s;
    return t;
  }

 private:
  using Clock = std::chrono::steady_clock;
  Clock::time_point last_;
  std::vector<double> seconds_;
};

/// Writes the History as CSV: `epoch,loss,<metrics...>[,seconds]`, one row per epoch (1-based),
/// "loss" first and the other names in alphabetical order.
inline void write_history_csv(const std::string& path, const History& history,
                              const std::vector<double>& epoch_seconds = {}) {
  std::vector<std::string> names;
  if (history.history.count("loss")) names.push_back("loss");
  for (const auto& [name, values] : history.history)
    if (name != "loss") names.push_back(name);
  std::ofstream out(path);
  check<IoError>(out.is_open(), path, ": cannot write the history CSV");
  out << "epoch";
  for (const std::string& name : names) out << ',' << name;
  if (!epoch_seconds.empty()) out << ",seconds";
  out << '\n' << std::setprecision(8);
  for (int e = 0; e < history.epochs; ++e) {
    out << e + 1;
    for (const std::string& name : names) {
      const std::vector<double>& v = history.history.at(name);
      out << ',';
      if (std::size_t(e) < v.size()) out << v[std::size_t(e)];
    }
    if (!epoch_seconds.empty()) {
      out << ',';
      if (std::size_t(e) < epoch_seconds.size()) out << epoch_seconds[std::size_t(e)];
    }
    out << '\n';
  }
}

/// The CI check of --expect-loss-decrease: true when the last epoch's `key` is below the
/// first's; prints the verdict either way.
inline bool loss_decreased(const History& history, const std::string& key = "loss",
                           std::ostream& out = std::cout) {
  const std::vector<double>& v = history[key];
  if (v.size() < 2) {
    out << "expect-loss-decrease: FAILED: needs at least 2 epochs, got " << v.size() << "\n";
    return false;
  }
  const bool fell = std::isfinite(v.back()) && v.back() < v.front();
  out << "expect-loss-decrease: " << (fell ? "ok" : "FAILED") << ": " << key << " went from "
      << v.front() << " (epoch 1) to " << v.back() << " (epoch " << v.size() << ")"
      << (fell ? "" : ", which is not lower") << "\n";
  return fell;
}

/// Writes options.out/history.csv, reports it and the training time, and applies
/// --expect-loss-decrease to `key`. Returns the example's exit status.
inline int finish(const ExampleOptions& options, const History& history, const EpochTimer& timer,
                  const std::string& key = "loss") {
  const std::string csv = options.out + "/history.csv";
  write_history_csv(csv, history, timer.seconds());
  const std::string svg = options.out + "/curves.svg";
  plot_history(history, svg, {.title = options.name + ": training history"});
  std::cout << "Wrote " << csv << " and " << svg << "\n";
  if (!timer.seconds().empty()) {
    std::ostringstream line;
    line << std::fixed << std::setprecision(1) << "Training time: " << timer.total() << " s for "
         << timer.seconds().size() << " epoch(s), "
         << timer.total() / double(timer.seconds().size()) << " s per epoch\n";
    std::cout << line.str();
  }
  if (options.expect_loss_decrease && !loss_decreased(history, key)) return 1;
  return 0;
}

/// fit's options from the command line, with `timer` timing each epoch.
inline FitOptions<float> fit_options(const ExampleOptions& options, EpochTimer& timer) {
  return {.epochs = options.epochs,
          .batch_size = options.batch_size,
          .seed = options.seed,
          .on_epoch_end = timer.callback(),
          .strategy = fit_strategy<float>()};
}

/// The index of the largest value in each row of probs [n, classes].
inline std::vector<int> argmax_rows(const Tensor<float>& probs) {
  const index_t n = probs.dim(0), k = probs.dim(1);
  std::vector<int> out(std::size_t(n), 0);
  for (index_t i = 0; i < n; ++i) {
    const float* row = probs.data() + i * k;
    out[std::size_t(i)] = int(std::max_element(row, row + k) - row);
  }
  return out;
}

/// A grid of images [n, h, w, 1] labelled with predicted (top line) and true (bottom line)
/// class names: green when right, red with a red frame when wrong. Returns how many were wrong.
inline int save_prediction_grid(const std::string& path, const Tensor<float>& images,
                                const std::vector<int>& predicted, const Tensor<float>& labels,
                                const std::array<std::string, 10>& names, int cols = 8) {
  const index_t n = std::min<index_t>(images.dim(0), index_t(predicted.size()));
  ImageGridOptions grid{.cols = cols, .padding = 3, .scale = 2, .frame_width = 2};
  int wrong = 0;
  for (index_t i = 0; i < n; ++i) {
    const int p = predicted[std::size_t(i)], t = int(labels.data()[i]);
    const bool right = p == t;
    wrong += !right;
    grid.frames.push_back(right ? std::nullopt : std::optional<Rgb>(colors::red));
    grid.labels.push_back(names[std::size_t(p)] + "\n" + names[std::size_t(t)]);
    grid.label_colors.push_back(right ? colors::green : colors::red);
  }
  save_image_grid(path, images.slice(0, n), grid);
  std::cout << "Wrote " << path << ": " << n << " test images, predicted class above the true "
            << "one; " << wrong << " wrong (red)\n";
  return wrong;
}

/// The end of a Fashion-MNIST classifier example: evaluates the model on x_test, prints the
/// test loss and accuracy, and writes options.out/predictions.png for the first 64 test images
/// (`images_test` [n, 28, 28, 1] show what x_test holds in the model's input shape; only those
/// 64 are converted to float).
inline Logs report_classifier(Model<float>& model, const ExampleOptions& options,
                              const ByteTensor& x_test, const Tensor<float>& y_test,
                              const ByteTensor& images_test) {
  // A model file saved without compile settings (e.g. converted from PyTorch without --loss).
  if (!model.compiled()) model.compile("adam", "sparse_categorical_crossentropy", {"accuracy"});
  const Logs test = model.evaluate(x_test, y_test, {.batch_size = 256});
  std::cout << "Test loss: " << test.at("loss") << ", test accuracy: " << test.at("accuracy")
            << "\n";
  const index_t shown = std::min<index_t>(64, x_test.dim(0));
  save_prediction_grid(
      options.out + "/predictions.png", images_test.slice(0, shown).to_tensor<float>(),
      argmax_rows(model.predict(x_test.slice(0, shown))), y_test, fashion_mnist_short_names());
  return test;
}

}  // namespace lamina::examples
