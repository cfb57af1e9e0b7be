#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "lamina/layers/layer.hpp"

namespace lamina {

/// 121930 -> "121,930".
inline std::string with_thousands(index_t n) {
  std::string digits = std::to_string(n < 0 ? -n : n), out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return n < 0 ? "-" + out : out;
}

/// The end of Keras's summary table: the rule and the parameter totals.
inline void print_summary_totals(std::ostream& out, std::size_t width, index_t total,
                                 index_t trainable) {
  out << std::string(width, '=') << '\n';
  out << "Total params: " << with_thousands(total) << '\n';
  out << "Trainable params: " << with_thousands(trainable) << '\n';
  out << "Non-trainable params: " << with_thousands(total - trainable) << '\n';
  out << std::string(width, '_') << '\n';
}

/// Writes Keras's model summary table for `layers` (all built).
template <class T>
void print_summary(std::ostream& out, const std::string& model_name,
                   const std::vector<Layer<T>*>& layers) {
  constexpr std::size_t name_w = 34, shape_w = 25, width = 70;
  // Pads to the column width, always leaving at least one space before the next column.
  const auto pad = [](std::string s, std::size_t w) {
    s += std::string(s.size() < w ? w - s.size() : 1, ' ');
    return s;
  };
  out << "Model: \"" << model_name << "\"\n" << std::string(width, '_') << '\n';
  out << pad(" Layer (type)", name_w) << pad("Output Shape", shape_w) << "Param #\n";
  out << std::string(width, '=') << '\n';
  index_t total = 0, trainable = 0;
  for (std::size_t i = 0; i < layers.size(); ++i) {
    const Layer<T>& l = *layers[i];
    std::string shape = "(None";
    for (index_t d : l.output_shape()) shape += ", " + std::to_string(d);
    shape += ")";
    out << pad(" " + l.name() + " (" + l.type() + ")", name_w) << pad(shape, shape_w)
        << with_thousands(l.count_params()) << '\n';
    if (i + 1 < layers.size()) out << '\n';
    total += l.count_params();
    trainable += l.count_trainable_params();
  }
  print_summary_totals(out, width, total, trainable);
}

}  // namespace lamina
