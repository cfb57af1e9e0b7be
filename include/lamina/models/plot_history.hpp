#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "lamina/core/error.hpp"
#include "lamina/io/atomic_file.hpp"
#include "lamina/models/history.hpp"

namespace lamina {

/// Options of plot_history, as matplotlib's figure options: a title above the panels and the size
/// of each panel in pixels. The panels (one per quantity) sit two to a row, so the picture is
/// min(panels, 2) * width wide.
struct PlotOptions {
  /// Written above the panels; an empty title leaves no room for one.
  std::string title = "Training history";
  /// Size of one panel (subplot) in pixels: at least 200 x 150.
  int width = 480;
  int height = 320;
};

namespace detail::plot {

inline constexpr double kTitleHeight = 36, kTop = 30, kRight = 16, kBottom = 46;
inline constexpr double kCharWidth = 0.6;  // of the font size: an estimate for sans-serif digits
inline constexpr std::array<const char*, 2> kColours = {"#1f77b4", "#ff7f0e"};  // matplotlib's

/// `text` with XML's special characters escaped, for element text and attribute values; control
/// characters, which XML 1.0 does not allow, become '?'.
inline std::string escape(std::string_view text) {
  std::string out;
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        out += static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n' ? '?' : c;
    }
  }
  return out;
}

/// A pixel coordinate: two decimals.
inline std::string px(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

/// A data value written exactly (the axis limits a reader maps pixels back through).
inline std::string exact(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

/// The smallest "nice" step (1, 2 or 5 times a power of ten) at least `raw` (> 0).
inline double nice_step(double raw) {
  const double power = std::pow(10.0, std::floor(std::log10(raw)));
  for (const double m : {1.0, 2.0, 5.0})
    if (raw <= m * power * (1 + 1e-9)) return m * power;
  return 10 * power;
}

/// One axis: the data range shown and the tick values with their labels.
struct Axis {
  double min = 0, max = 1;
  std::vector<double> ticks;
  std::vector<std::string> labels;
};

/// Ticks at the multiples of `step` within [lo, hi], labelled with just enough digits.
inline void add_ticks(Axis& axis, double step, double lo, double hi) {
  if (!(step > 0) || !std::isfinite(step)) return;
  const double first = std::ceil(lo / step - 1e-9);
  for (int i = 0; i < 64; ++i) {
    double t = (first + i) * step;
    if (!std::isfinite(t) || t > hi + step * 1e-9) break;
    if (std::abs(t) < step * 1e-6) t = 0;  // no "-0"
    axis.ticks.push_back(t);
  }
  const double largest = std::max(std::abs(axis.min), std::abs(axis.max));
  char buf[40];
  for (const double t : axis.ticks) {
    if (step >= 1e-4 && largest < 1e6) {
      const int decimals = std::max(0, -static_cast<int>(std::floor(std::log10(step) + 1e-9)));
      std::snprintf(buf, sizeof buf, "%.*f", decimals, t);
    } else {
      const int digits =
          static_cast<int>(std::floor(std::log10(largest)) - std::floor(std::log10(step))) + 1;
      std::snprintf(buf, sizeof buf, "%.*g", std::clamp(digits, 1, 15), t);
    }
    axis.labels.emplace_back(buf);
  }
}

/// Epochs first..last with a margin, integer ticks within first..last.
inline Axis epoch_axis(int first, int last) {
  Axis axis;
  const double pad = std::max(0.5, 0.03 * (last - first));
  axis.min = first - pad;
  axis.max = last + pad;
  add_ticks(axis, std::max(1.0, nice_step(std::max(1e-9, (last - first) / 10.0))), first, last);
  return axis;
}

/// The 1-based epoch of each value of series `name`: from History::epochs_of when fit recorded
/// it (a resumed fit starts after 1, a validation_freq series skips epochs), else 1, 2, ...
inline std::vector<double> epochs_of(const History& history, const std::string& name) {
  const std::size_t n = history.history.at(name).size();
  std::vector<double> epochs(n);
  const auto it = history.epochs_of.find(name);
  for (std::size_t i = 0; i < n; ++i)
    epochs[i] = it != history.epochs_of.end() ? it->second[i] + 1.0 : static_cast<double>(i + 1);
  return epochs;
}

/// The range of the finite `values` with a 6% margin (matplotlib's habit), about five ticks.
inline Axis value_axis(const std::vector<const std::vector<double>*>& series) {
  double lo = INFINITY, hi = -INFINITY;
  for (const auto* values : series)
    for (const double v : *values)
      if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
  if (lo > hi) lo = 0, hi = 1;                                    // nothing finite to show
  if (hi - lo <= 1e-12 * std::max(std::abs(lo), std::abs(hi))) {  // constant: centre it
    const double d = lo == 0 ? 1 : std::abs(lo) * 0.1;
    lo -= d, hi += d;
  }
  Axis axis;
  const double pad = 0.06 * (hi - lo);
  axis.min = lo - pad;
  axis.max = hi + pad;
  add_ticks(axis, nice_step((axis.max - axis.min) / 5), axis.min, axis.max);
  return axis;
}

/// One subplot: a quantity and its series ("loss", then "val_loss" when recorded).
struct Panel {
  std::string quantity;
  std::vector<std::string> series;
};

/// "loss" first, then the other quantities in name order; "val_x" joins "x" when both exist.
inline std::vector<Panel> panels_of(const History& history) {
  std::vector<Panel> panels;
  for (const auto& [name, values] : history.history) {
    const bool joins = name.rfind("val_", 0) == 0 && history.history.count(name.substr(4)) > 0;
    if (joins) continue;
    Panel panel{name, {name}};
    if (history.history.count("val_" + name)) panel.series.push_back("val_" + name);
    if (name == "loss")
      panels.insert(panels.begin(), panel);
    else
      panels.push_back(panel);
  }
  return panels;
}

/// A rectangle in pixels.
struct Box {
  double x, y, w, h;
  bool contains(double px_, double py_) const {
    return px_ >= x && px_ <= x + w && py_ >= y && py_ <= y + h;
  }
};

/// The corner of `plot` (upper right, upper left, lower right, lower left, in that order of
/// preference) where a `w` x `h` legend covers the fewest of the `lines`' points, sampled along
/// each segment: matplotlib's loc="best".
inline Box legend_box(const Box& plot, double w, double h,
                      const std::vector<std::vector<std::array<double, 2>>>& lines) {
  constexpr double inset = 8;
  const double left = plot.x + inset, right = plot.x + plot.w - inset - w;
  const double top = plot.y + inset, bottom = plot.y + plot.h - inset - h;
  const std::array<Box, 4> corners = {Box{right, top, w, h}, Box{left, top, w, h},
                                      Box{right, bottom, w, h}, Box{left, bottom, w, h}};
  Box best = corners[0];
  int best_hits = -1;
  for (const Box& corner : corners) {
    const Box area{corner.x - 4, corner.y - 4, corner.w + 8, corner.h + 8};
    int hits = 0;
    for (const auto& line : lines) {
      for (std::size_t i = 0; i < line.size(); ++i) {
        hits += area.contains(line[i][0], line[i][1]) ? 4 : 0;  // markers weigh more
        if (i + 1 == line.size()) continue;
        for (int s = 1; s < 16; ++s) {
          const double f = s / 16.0;
          hits += area.contains(line[i][0] + f * (line[i + 1][0] - line[i][0]),
                                line[i][1] + f * (line[i + 1][1] - line[i][1]));
        }
      }
    }
    if (best_hits < 0 || hits < best_hits) best = corner, best_hits = hits;
  }
  return best;
}

/// Appends the SVG of one panel whose top-left corner is (x0, y0).
inline void write_panel(std::string& out, const History& history, const Panel& panel, double x0,
                        double y0, int first_epoch, int last_epoch, const PlotOptions& options) {
  std::vector<const std::vector<double>*> series;
  std::vector<std::vector<double>> epochs;
  for (const std::string& name : panel.series) {
    series.push_back(&history.history.at(name));
    epochs.push_back(epochs_of(history, name));
  }
  const Axis xs = epoch_axis(first_epoch, last_epoch), ys = value_axis(series);
  std::size_t label_chars = 1;
  for (const std::string& label : ys.labels) label_chars = std::max(label_chars, label.size());
  const double left = 34 + 11 * kCharWidth * static_cast<double>(label_chars);
  const Box plot{x0 + left, y0 + kTop, options.width - left - kRight,
                 options.height - kTop - kBottom};
  const auto X = [&](double e) { return plot.x + (e - xs.min) / (xs.max - xs.min) * plot.w; };
  const auto Y = [&](double v) {
    return plot.y + plot.h - (v - ys.min) / (ys.max - ys.min) * plot.h;
  };

  const std::string q = escape(panel.quantity);
  out += "<g class=\"panel\" data-quantity=\"" + q + "\" data-x-min=\"" + exact(xs.min) +
         "\" data-x-max=\"" + exact(xs.max) + "\" data-y-min=\"" + exact(ys.min) +
         "\" data-y-max=\"" + exact(ys.max) + "\" data-plot-x=\"" + px(plot.x) +
         "\" data-plot-y=\"" + px(plot.y) + "\" data-plot-width=\"" + px(plot.w) +
         "\" data-plot-height=\"" + px(plot.h) + "\">\n";
  out += "<text class=\"panel-title\" x=\"" + px(plot.x + plot.w / 2) + "\" y=\"" +
         px(y0 + kTop - 10) + "\" text-anchor=\"middle\" font-size=\"13\" font-weight=\"bold\">" +
         q + "</text>\n";
  // Grid, frame, ticks and their labels.
  out += "<g class=\"grid\" stroke=\"#e5e5e5\" stroke-width=\"1\">\n";
  for (const double t : xs.ticks)
    out += "<line x1=\"" + px(X(t)) + "\" y1=\"" + px(plot.y) + "\" x2=\"" + px(X(t)) + "\" y2=\"" +
           px(plot.y + plot.h) + "\"/>\n";
  for (const double t : ys.ticks)
    out += "<line x1=\"" + px(plot.x) + "\" y1=\"" + px(Y(t)) + "\" x2=\"" + px(plot.x + plot.w) +
           "\" y2=\"" + px(Y(t)) + "\"/>\n";
  out += "</g>\n<rect class=\"frame\" x=\"" + px(plot.x) + "\" y=\"" + px(plot.y) + "\" width=\"" +
         px(plot.w) + "\" height=\"" + px(plot.h) +
         "\" fill=\"none\" stroke=\"#444444\" stroke-width=\"1\"/>\n";
  out += "<g class=\"x-ticks\" font-size=\"11\" fill=\"#333333\" text-anchor=\"middle\">\n";
  for (std::size_t i = 0; i < xs.ticks.size(); ++i) {
    const std::string x = px(X(xs.ticks[i])), bottom = px(plot.y + plot.h);
    out += "<line x1=\"" + x + "\" y1=\"" + bottom + "\" x2=\"" + x + "\" y2=\"" +
           px(plot.y + plot.h + 5) + "\" stroke=\"#444444\"/><text x=\"" + x + "\" y=\"" +
           px(plot.y + plot.h + 18) + "\">" + xs.labels[i] + "</text>\n";
  }
  out += "</g>\n<g class=\"y-ticks\" font-size=\"11\" fill=\"#333333\" text-anchor=\"end\">\n";
  for (std::size_t i = 0; i < ys.ticks.size(); ++i) {
    const std::string y = px(Y(ys.ticks[i]));
    out += "<line x1=\"" + px(plot.x - 5) + "\" y1=\"" + y + "\" x2=\"" + px(plot.x) + "\" y2=\"" +
           y + "\" stroke=\"#444444\"/><text x=\"" + px(plot.x - 8) + "\" y=\"" +
           px(Y(ys.ticks[i]) + 4) + "\">" + ys.labels[i] + "</text>\n";
  }
  out += "</g>\n<text class=\"x-label\" x=\"" + px(plot.x + plot.w / 2) + "\" y=\"" +
         px(plot.y + plot.h + 36) + "\" text-anchor=\"middle\" font-size=\"12\">epoch</text>\n";
  const std::string lx = px(x0 + 16), ly = px(plot.y + plot.h / 2);
  out += "<text class=\"y-label\" x=\"" + lx + "\" y=\"" + ly + "\" transform=\"rotate(-90 " + lx +
         " " + ly + ")\" text-anchor=\"middle\" font-size=\"12\">" + q + "</text>\n";

  // The series: a line through the finite values (a gap at each NaN or Inf) and a marker at each.
  // The training series solid and blue, its "val_" counterpart dashed and orange.
  const auto colour = [](std::size_t s) { return std::string(kColours[s % 2]); };
  const auto line_style = [&](std::size_t s) {
    return "stroke=\"" + colour(s) + "\"" + (s % 2 ? " stroke-dasharray=\"7 4\"" : "");
  };
  // Markers shrink as epochs crowd together (3.5 pixels down to 1.5).
  const std::string radius = px(std::clamp(plot.w / (last_epoch - first_epoch + 1) / 3, 1.5, 3.5));
  std::vector<std::vector<std::array<double, 2>>> lines;
  for (std::size_t s = 0; s < series.size(); ++s) {
    const std::string name = escape(panel.series[s]);
    std::string d, markers;
    bool gap = true;
    lines.emplace_back();
    for (std::size_t e = 0; e < series[s]->size(); ++e) {
      const double v = (*series[s])[e];
      if (!std::isfinite(v)) {
        gap = true;
        continue;
      }
      const double x = X(epochs[s][e]), y = Y(v);
      d += (d.empty() ? "" : " ") + std::string(gap ? "M" : "L") + px(x) + " " + px(y);
      markers += "<circle cx=\"" + px(x) + "\" cy=\"" + px(y) + "\" r=\"" + radius + "\"/>\n";
      lines.back().push_back({x, y});
      gap = false;
    }
    out += "<path class=\"series\" data-series=\"" + name + "\" d=\"" + d + "\" fill=\"none\" " +
           line_style(s) + " stroke-width=\"2\" stroke-linejoin=\"round\"/>\n";
    out += "<g class=\"markers\" data-series=\"" + name + "\" " + "fill=\"" +
           (s % 2 ? "#ffffff" : colour(s)) + "\" stroke=\"" + colour(s) +
           "\" stroke-width=\"1.5\">\n" + markers + "</g>\n";
  }

  // The legend, in the emptiest corner of the plot.
  std::size_t name_chars = 1;
  for (const std::string& name : panel.series) name_chars = std::max(name_chars, name.size());
  const double row = 18, lw = 50 + 12 * 0.55 * static_cast<double>(name_chars);
  const Box box = legend_box(plot, lw, 8 + row * static_cast<double>(series.size()), lines);
  out += "<g class=\"legend\" font-size=\"12\">\n<rect x=\"" + px(box.x) + "\" y=\"" + px(box.y) +
         "\" width=\"" + px(box.w) + "\" height=\"" + px(box.h) +
         "\" rx=\"3\" fill=\"#ffffff\" fill-opacity=\"0.85\" stroke=\"#cccccc\"/>\n";
  for (std::size_t s = 0; s < series.size(); ++s) {
    const double y = box.y + 4 + row * (static_cast<double>(s) + 0.5);
    const std::string name = escape(panel.series[s]);
    out += "<g class=\"legend-entry\" data-series=\"" + name + "\"><line x1=\"" + px(box.x + 8) +
           "\" y1=\"" + px(y) + "\" x2=\"" + px(box.x + 34) + "\" y2=\"" + px(y) + "\" " +
           line_style(s) + " stroke-width=\"2\"/><text x=\"" + px(box.x + 40) + "\" y=\"" +
           px(y + 4) + "\" fill=\"#222222\">" + name + "</text></g>\n";
  }
  out += "</g>\n</g>\n";
}

}  // namespace detail::plot

/// The training curves of `history` as a standalone SVG 1.1 document: one panel per quantity
/// ("loss", then each metric and any other value such as "learning_rate"), each showing the
/// training series (solid, blue) and its "val_" counterpart when recorded (dashed, orange), over
/// the epochs recorded (History::epochs_of; 1..history.epochs for a History without it), with a
/// marker at each value and a gap at each NaN or Inf. Each panel
/// (<g class="panel">) states its axis ranges (data-x-min/max, data-y-min/max) and plot area in
/// pixels (data-plot-x/y/width/height); each series is a <path data-series="name">. Throws
/// ValueError for an empty history, series whose lengths differ from their recorded epochs (or,
/// without them, from the number of epochs), or a panel smaller than 200 x 150 pixels.
inline std::string history_svg(const History& history, const PlotOptions& options = {}) {
  check<ValueError>(history.epochs > 0 && !history.history.empty(),
                    "plot_history: the history is empty (no epochs recorded)");
  int first_epoch = std::numeric_limits<int>::max(), last_epoch = 1;
  for (const auto& [name, values] : history.history) {
    const auto recorded = history.epochs_of.find(name);
    if (recorded != history.epochs_of.end()) {
      check<ValueError>(values.size() == recorded->second.size() && !values.empty(),
                        "plot_history: series '", name, "' has ", values.size(),
                        " values but epochs_of records ", recorded->second.size(), " epochs");
      for (const int e : recorded->second) {
        check<ValueError>(e >= 0 && e < std::numeric_limits<int>::max(), "plot_history: series '",
                          name, "' is recorded at epoch ", e);
        first_epoch = std::min(first_epoch, e + 1);
        last_epoch = std::max(last_epoch, e + 1);
      }
    } else {
      check<ValueError>(values.size() == static_cast<std::size_t>(history.epochs),
                        "plot_history: series '", name, "' has ", values.size(),
                        " values but the history has ", history.epochs,
                        " epochs; every series needs one value per epoch");
      first_epoch = 1;
      last_epoch = std::max(last_epoch, history.epochs);
    }
  }
  check<ValueError>(options.width >= 200 && options.height >= 150,
                    "plot_history: a panel must be at least 200 x 150 pixels, got ", options.width,
                    " x ", options.height);

  using namespace detail::plot;
  const std::vector<Panel> panels = panels_of(history);
  const int columns = std::min<int>(2, static_cast<int>(panels.size()));
  const int rows = (static_cast<int>(panels.size()) + columns - 1) / columns;
  const double top = options.title.empty() ? 0 : kTitleHeight;
  const std::string width = std::to_string(columns * options.width);
  const std::string height = std::to_string(static_cast<int>(top) + rows * options.height);
  const std::string title = escape(options.title);

  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out += "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"" + width +
         "\" height=\"" + height + "\" viewBox=\"0 0 " + width + " " + height +
         "\" font-family=\"sans-serif\">\n";
  out += "<title>" + title + "</title>\n";
  out += "<rect width=\"" + width + "\" height=\"" + height + "\" fill=\"#ffffff\"/>\n";
  if (!options.title.empty())
    out += "<text class=\"title\" x=\"" + px(columns * options.width / 2.0) +
           "\" y=\"25\" text-anchor=\"middle\" font-size=\"16\" font-weight=\"bold\">" + title +
           "</text>\n";
  for (std::size_t i = 0; i < panels.size(); ++i) {
    const double x0 = static_cast<double>(static_cast<int>(i) % columns) * options.width;
    const double y0 = top + static_cast<double>(static_cast<int>(i) / columns) * options.height;
    write_panel(out, history, panels[i], x0, y0, first_epoch, last_epoch, options);
  }
  out += "</svg>\n";
  return out;
}

/// Writes history_svg(history, options) to `path` atomically (a crash leaves the old file or the
/// new one): the training curves, for any browser. Throws ValueError as history_svg does and
/// IoError naming the path when it cannot be written.
inline void plot_history(const History& history, const std::string& path,
                         const PlotOptions& options = {}) {
  const std::string svg = history_svg(history, options);
  write_file_atomically(path, std::array<std::string_view, 1>{svg});
}

}  // namespace lamina
