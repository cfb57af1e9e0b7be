#include <gtest/gtest.h>
#include <tinyxml2.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "lamina/models/plot_history.hpp"

#include "support/op_check.hpp"

namespace lamina {
namespace {

using testing::expect_error;
using tinyxml2::XMLElement;

/// 10 epochs: loss and val_loss falling, accuracy and val_accuracy rising, a learning rate.
History sample_history() {
  History h;
  for (int e = 0; e < 10; ++e) {
    h.append({{"loss", 0.9 * std::exp(-0.35 * e) + 0.12},
              {"val_loss", 0.85 * std::exp(-0.28 * e) + 0.2 + 0.002 * e * e},
              {"accuracy", 0.98 - 0.32 * std::exp(-0.4 * e)},
              {"val_accuracy", 0.95 - 0.3 * std::exp(-0.35 * e) - 0.001 * e},
              {"learning_rate", 1e-3 * std::pow(0.9, e)}});
  }
  return h;
}

/// The parsed SVG, with a root element; throws (failing the test) if it is not well-formed XML.
std::unique_ptr<tinyxml2::XMLDocument> parse(const std::string& svg) {
  auto doc = std::make_unique<tinyxml2::XMLDocument>();
  if (doc->Parse(svg.c_str(), svg.size()) != tinyxml2::XML_SUCCESS || !doc->RootElement())
    throw std::runtime_error(std::string("the SVG is not well-formed XML: ") + doc->ErrorStr());
  return doc;
}

std::string attr(const XMLElement* e, const char* name) {
  const char* value = e->Attribute(name);
  return value ? value : "";
}
double number(const XMLElement* e, const char* name) {
  const std::string text = attr(e, name);
  EXPECT_FALSE(text.empty()) << "<" << e->Name() << "> has no " << name;
  return std::stod(text);
}
std::string text(const XMLElement* e) { return e->GetText() ? e->GetText() : ""; }

/// Every element under `root` (itself included) for which `keep` holds, in document order.
std::vector<const XMLElement*> find_all(const XMLElement* root,
                                        const std::function<bool(const XMLElement*)>& keep) {
  std::vector<const XMLElement*> found;
  std::function<void(const XMLElement*)> walk = [&](const XMLElement* e) {
    if (keep(e)) found.push_back(e);
    for (const XMLElement* c = e->FirstChildElement(); c; c = c->NextSiblingElement()) walk(c);
  };
  walk(root);
  return found;
}
std::vector<const XMLElement*> with_class(const XMLElement* root, const std::string& cls) {
  return find_all(root, [&](const XMLElement* e) { return attr(e, "class") == cls; });
}
const XMLElement* one_with_class(const XMLElement* root, const std::string& cls) {
  const auto found = with_class(root, cls);
  EXPECT_EQ(found.size(), 1u) << "class " << cls;
  return found.empty() ? root : found[0];
}
const XMLElement* series_element(const XMLElement* panel, const std::string& cls,
                                 const std::string& series) {
  const auto found = find_all(panel, [&](const XMLElement* e) {
    return attr(e, "class") == cls && attr(e, "data-series") == series;
  });
  EXPECT_EQ(found.size(), 1u) << cls << " of " << series;
  return found.empty() ? panel : found[0];
}

struct Point {
  double x, y;
};

/// The points of a path's "d" made of M and L commands, one vector per subpath (M starts one).
std::vector<std::vector<Point>> subpaths(const std::string& d) {
  std::vector<std::vector<Point>> out;
  std::istringstream in(d);
  char command = 0;
  while (in >> command) {
    Point p{};
    EXPECT_TRUE(command == 'M' || command == 'L') << "command " << command << " in " << d;
    EXPECT_TRUE(in >> p.x >> p.y) << d;
    if (command == 'M' || out.empty()) out.emplace_back();
    out.back().push_back(p);
  }
  return out;
}

/// A panel's axis transform, read from its data-* attributes: pixels back to (epoch, value).
struct Transform {
  double x_min, x_max, y_min, y_max, left, top, width, height;
  explicit Transform(const XMLElement* panel)
      : x_min(number(panel, "data-x-min")),
        x_max(number(panel, "data-x-max")),
        y_min(number(panel, "data-y-min")),
        y_max(number(panel, "data-y-max")),
        left(number(panel, "data-plot-x")),
        top(number(panel, "data-plot-y")),
        width(number(panel, "data-plot-width")),
        height(number(panel, "data-plot-height")) {}
  double epoch(double px) const { return x_min + (px - left) / width * (x_max - x_min); }
  double value(double py) const { return y_min + (top + height - py) / height * (y_max - y_min); }
  /// Half a hundredth of a pixel (the SVG's rounding) and some, in data units.
  double value_tolerance() const { return 0.02 / height * (y_max - y_min); }
  double epoch_tolerance() const { return 0.02 / width * (x_max - x_min); }
};

const XMLElement* panel_of(const XMLElement* root, const std::string& quantity) {
  const auto found = find_all(root, [&](const XMLElement* e) {
    return attr(e, "class") == "panel" && attr(e, "data-quantity") == quantity;
  });
  EXPECT_EQ(found.size(), 1u) << "panel " << quantity;
  return found.empty() ? root : found[0];
}

/// Expects the series' line and markers to sit at (at[e], values[e]) for each finite value,
/// with a new subpath after each non-finite one; `at` defaults to epochs 1, 2, ...
void expect_series(const XMLElement* panel, const std::string& name,
                   const std::vector<double>& values, std::vector<double> at = {}) {
  SCOPED_TRACE("series " + name);
  if (at.empty())
    for (std::size_t e = 0; e < values.size(); ++e) at.push_back(static_cast<double>(e + 1));
  const Transform t(panel);
  std::vector<std::vector<Point>> expected_runs(1);
  std::vector<std::size_t> epochs;
  for (std::size_t e = 0; e < values.size(); ++e) {
    if (std::isfinite(values[e])) {
      epochs.push_back(e);
      expected_runs.back().push_back({at[e], values[e]});
    } else if (!expected_runs.back().empty()) {
      expected_runs.emplace_back();
    }
  }
  if (expected_runs.back().empty()) expected_runs.pop_back();

  const auto runs = subpaths(attr(series_element(panel, "series", name), "d"));
  ASSERT_EQ(runs.size(), expected_runs.size());
  for (std::size_t r = 0; r < runs.size(); ++r) {
    ASSERT_EQ(runs[r].size(), expected_runs[r].size()) << "subpath " << r;
    for (std::size_t i = 0; i < runs[r].size(); ++i) {
      EXPECT_NEAR(t.epoch(runs[r][i].x), expected_runs[r][i].x, t.epoch_tolerance());
      EXPECT_NEAR(t.value(runs[r][i].y), expected_runs[r][i].y, t.value_tolerance());
    }
  }
  const auto circles = find_all(series_element(panel, "markers", name), [](const XMLElement* e) {
    return std::string(e->Name()) == "circle";
  });
  ASSERT_EQ(circles.size(), epochs.size());
  for (std::size_t i = 0; i < circles.size(); ++i) {
    EXPECT_NEAR(t.epoch(number(circles[i], "cx")), at[epochs[i]], t.epoch_tolerance());
    EXPECT_NEAR(t.value(number(circles[i], "cy")), values[epochs[i]], t.value_tolerance());
    EXPECT_GT(number(circles[i], "r"), 1.0);
  }
}

/// The tick values of a panel's x-ticks or y-ticks group, checked against where they are drawn.
std::vector<double> ticks(const XMLElement* panel, const std::string& group, bool vertical) {
  SCOPED_TRACE(attr(panel, "data-quantity") + " " + group);
  const Transform t(panel);
  const auto lines = find_all(one_with_class(panel, group),
                              [](const XMLElement* e) { return std::string(e->Name()) == "line"; });
  const auto labels = find_all(one_with_class(panel, group), [](const XMLElement* e) {
    return std::string(e->Name()) == "text";
  });
  EXPECT_EQ(lines.size(), labels.size());
  std::vector<double> values;
  for (std::size_t i = 0; i < std::min(lines.size(), labels.size()); ++i) {
    const double v = std::stod(text(labels[i]));
    if (vertical)
      EXPECT_NEAR(t.value(number(lines[i], "y1")), v, t.value_tolerance()) << text(labels[i]);
    else
      EXPECT_NEAR(t.epoch(number(lines[i], "x1")), v, t.epoch_tolerance()) << text(labels[i]);
    values.push_back(v);
  }
  return values;
}

/// Expects equally spaced ticks, 1, 2 or 5 times a power of ten apart.
void expect_nice(const std::vector<double>& values) {
  ASSERT_GE(values.size(), 2u);
  const double step = values[1] - values[0];
  ASSERT_GT(step, 0);
  const double mantissa = step / std::pow(10.0, std::floor(std::log10(step) + 1e-9));
  EXPECT_TRUE(std::abs(mantissa - 1) < 1e-6 || std::abs(mantissa - 2) < 1e-6 ||
              std::abs(mantissa - 5) < 1e-6)
      << "step " << step;
  for (std::size_t i = 1; i < values.size(); ++i)
    EXPECT_NEAR(values[i] - values[i - 1], step, step * 1e-6);
}

TEST(PlotHistory, IsAPlainSvgDocumentWithOnePanelPerQuantity) {
  const History h = sample_history();
  const auto doc = parse(history_svg(h, {.title = "CNN"}));
  const XMLElement* svg = doc->RootElement();
  EXPECT_STREQ(svg->Name(), "svg");
  EXPECT_EQ(attr(svg, "xmlns"), "http://www.w3.org/2000/svg");
  EXPECT_EQ(attr(svg, "version"), "1.1");
  EXPECT_EQ(attr(svg, "viewBox"), "0 0 " + attr(svg, "width") + " " + attr(svg, "height"));
  EXPECT_EQ(attr(svg, "font-family"), "sans-serif");
  EXPECT_EQ(text(one_with_class(svg, "title")), "CNN");
  // Nothing but plain shapes and text: no script, style sheet, image or link.
  const std::set<std::string> plain = {"svg", "title", "rect", "text",
                                       "g",   "line",  "path", "circle"};
  for (const XMLElement* e : find_all(svg, [](const XMLElement*) { return true; }))
    EXPECT_TRUE(plain.count(e->Name())) << "<" << e->Name() << ">";

  // "loss" first, then the other quantities by name; val_ series join their training series.
  std::vector<std::string> quantities;
  for (const XMLElement* panel : with_class(svg, "panel"))
    quantities.push_back(attr(panel, "data-quantity"));
  EXPECT_EQ(quantities, (std::vector<std::string>{"loss", "accuracy", "learning_rate"}));
  const std::vector<std::vector<std::string>> expected = {
      {"loss", "val_loss"}, {"accuracy", "val_accuracy"}, {"learning_rate"}};
  for (std::size_t p = 0; p < quantities.size(); ++p) {
    const XMLElement* panel = panel_of(svg, quantities[p]);
    std::vector<std::string> series, legend;
    for (const XMLElement* e : with_class(panel, "series"))
      series.push_back(attr(e, "data-series"));
    for (const XMLElement* e : with_class(panel, "legend-entry")) {
      legend.push_back(attr(e, "data-series"));
      EXPECT_EQ(text(e->FirstChildElement("text")), legend.back());
    }
    EXPECT_EQ(series, expected[p]);
    EXPECT_EQ(legend, expected[p]);
    EXPECT_EQ(text(one_with_class(panel, "x-label")), "epoch");
    EXPECT_EQ(text(one_with_class(panel, "y-label")), quantities[p]);
  }
}

TEST(PlotHistory, SeriesPointsMapBackToTheValues) {
  const History h = sample_history();
  const auto doc = parse(history_svg(h));
  for (const auto& [name, values] : h.history) {
    const bool val = name.rfind("val_", 0) == 0;
    expect_series(panel_of(doc->RootElement(), val ? name.substr(4) : name), name, values);
  }
}

TEST(PlotHistory, SeriesSitAtTheEpochsFitRecordedThem) {
  History h;  // a fit resumed at epoch index 3 that validates every second epoch
  for (int e = 3; e < 9; ++e) {
    Logs logs{{"loss", 1.0 / (e + 1)}};
    if ((e + 1) % 2 == 0) logs["val_loss"] = 1.2 / (e + 1);
    h.append(e, logs);
  }
  ASSERT_EQ(h["val_loss"].size(), 3u);
  const auto doc = parse(history_svg(h));
  const XMLElement* panel = panel_of(doc->RootElement(), "loss");
  expect_series(panel, "loss", h["loss"], {4, 5, 6, 7, 8, 9});
  expect_series(panel, "val_loss", h["val_loss"], {4, 6, 8});
  const std::vector<double> x = ticks(panel, "x-ticks", false);
  ASSERT_FALSE(x.empty());
  EXPECT_EQ(x.front(), 4);
  EXPECT_EQ(x.back(), 9);
}

TEST(PlotHistory, ValidationSeriesIsDashedInAnotherColour) {
  const auto doc = parse(history_svg(sample_history()));
  const XMLElement* panel = panel_of(doc->RootElement(), "loss");
  const XMLElement* train = series_element(panel, "series", "loss");
  const XMLElement* val = series_element(panel, "series", "val_loss");
  EXPECT_EQ(attr(train, "stroke-dasharray"), "");
  EXPECT_NE(attr(val, "stroke-dasharray"), "");
  EXPECT_NE(attr(train, "stroke"), attr(val, "stroke"));
  EXPECT_EQ(attr(train, "fill"), "none");
  // The legend draws each series' line as the plot does.
  for (const XMLElement* line : {train, val}) {
    const XMLElement* entry = series_element(panel, "legend-entry", attr(line, "data-series"));
    const XMLElement* sample = entry->FirstChildElement("line");
    ASSERT_NE(sample, nullptr);
    EXPECT_EQ(attr(sample, "stroke"), attr(line, "stroke"));
    EXPECT_EQ(attr(sample, "stroke-dasharray"), attr(line, "stroke-dasharray"));
  }
}

TEST(PlotHistory, LegendSitsInsideThePlotClearOfTheMarkers) {
  const auto doc = parse(history_svg(sample_history()));
  for (const XMLElement* panel : with_class(doc->RootElement(), "panel")) {
    SCOPED_TRACE(attr(panel, "data-quantity"));
    const Transform t(panel);
    const XMLElement* box = one_with_class(panel, "legend")->FirstChildElement("rect");
    ASSERT_NE(box, nullptr);
    const double x = number(box, "x"), y = number(box, "y");
    const double w = number(box, "width"), h = number(box, "height");
    EXPECT_GE(x, t.left);
    EXPECT_GE(y, t.top);
    EXPECT_LE(x + w, t.left + t.width);
    EXPECT_LE(y + h, t.top + t.height);
    for (const XMLElement* c :
         find_all(panel, [](const XMLElement* e) { return std::string(e->Name()) == "circle"; })) {
      const double cx = number(c, "cx"), cy = number(c, "cy");
      EXPECT_FALSE(cx >= x && cx <= x + w && cy >= y && cy <= y + h) << cx << ", " << cy;
    }
  }
}

TEST(PlotHistory, TicksAreNiceNumbersDrawnWhereTheyBelong) {
  const History h = sample_history();
  const auto doc = parse(history_svg(h));
  for (const XMLElement* panel : with_class(doc->RootElement(), "panel")) {
    SCOPED_TRACE(attr(panel, "data-quantity"));
    EXPECT_EQ(ticks(panel, "x-ticks", false), (std::vector<double>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}));
    const std::vector<double> y = ticks(panel, "y-ticks", true);
    EXPECT_GE(y.size(), 3u);
    expect_nice(y);
    const Transform t(panel);
    for (const double v : y) {
      EXPECT_GE(v, t.y_min);
      EXPECT_LE(v, t.y_max);
    }
  }
  // Fifty epochs: every fifth is labelled, and no epoch before the first.
  History long_run;
  for (int e = 0; e < 50; ++e) long_run.append({{"loss", 1.0 / (e + 1)}});
  const auto long_doc = parse(history_svg(long_run));
  const std::vector<double> x = ticks(panel_of(long_doc->RootElement(), "loss"), "x-ticks", false);
  EXPECT_EQ(x, (std::vector<double>{5, 10, 15, 20, 25, 30, 35, 40, 45, 50}));
}

TEST(PlotHistory, NonFiniteValuesLeaveGaps) {
  History h;
  const std::vector<double> loss = {1.0, NAN, 0.5, 0.4, INFINITY, 0.25, -INFINITY};
  const std::vector<double> val = {NAN, 1.2, 1.1, 0.9, 0.8, 0.7, 0.6};
  for (std::size_t e = 0; e < loss.size(); ++e) h.append({{"loss", loss[e]}, {"val_loss", val[e]}});
  const std::string svg = history_svg(h);
  const auto doc = parse(svg);
  const XMLElement* panel = panel_of(doc->RootElement(), "loss");
  expect_series(panel, "loss", loss);
  expect_series(panel, "val_loss", val);
  EXPECT_EQ(subpaths(attr(series_element(panel, "series", "loss"), "d")).size(), 3u);
  std::string lower = svg;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  EXPECT_EQ(lower.find("nan"), std::string::npos);
  EXPECT_EQ(lower.find("inf"), std::string::npos);
  // The axis covers the finite values only.
  const Transform t(panel);
  EXPECT_LT(t.y_min, 0.25);
  EXPECT_GT(t.y_max, 1.2);
  EXPECT_LT(t.y_max - t.y_min, 2.0);
}

TEST(PlotHistory, OneEpochAndConstantSeriesStillShowAPoint) {
  History one;
  one.append({{"loss", 0.5}, {"val_loss", 0.7}});
  auto doc = parse(history_svg(one));
  const XMLElement* panel = panel_of(doc->RootElement(), "loss");
  expect_series(panel, "loss", {0.5});
  expect_series(panel, "val_loss", {0.7});
  EXPECT_EQ(ticks(panel, "x-ticks", false), std::vector<double>{1});

  for (const double constant : {0.0, 3.0, -2e-7}) {
    SCOPED_TRACE(constant);
    History flat;
    for (int e = 0; e < 4; ++e) flat.append({{"loss", constant}});
    doc = parse(history_svg(flat));
    panel = panel_of(doc->RootElement(), "loss");
    const Transform t(panel);
    EXPECT_LT(t.y_min, constant);
    EXPECT_GT(t.y_max, constant);
    expect_series(panel, "loss", flat["loss"]);
    expect_nice(ticks(panel, "y-ticks", true));
  }
}

TEST(PlotHistory, EscapesNamesAndTitle) {
  const std::string odd = "a<b & \"c\" 'd'>";
  History h;
  h.append({{odd, 1.0}, {"val_" + odd, 2.0}});
  h.append({{odd, 0.5}, {"val_" + odd, 1.5}});
  const auto doc = parse(history_svg(h, {.title = "loss & <accuracy>"}));
  EXPECT_EQ(text(one_with_class(doc->RootElement(), "title")), "loss & <accuracy>");
  const XMLElement* panel = panel_of(doc->RootElement(), odd);
  expect_series(panel, odd, h[odd]);
  expect_series(panel, "val_" + odd, h["val_" + odd]);
  EXPECT_EQ(text(series_element(panel, "legend-entry", odd)->FirstChildElement("text")), odd);
  EXPECT_EQ(text(one_with_class(panel, "y-label")), odd);

  History control;  // XML 1.0 has no escape for control characters: they become '?'
  const std::string with_control = std::string("a") + '\x01' + "b";
  control.append({{with_control, 1.0}});
  const auto control_doc = parse(history_svg(control));
  expect_series(panel_of(control_doc->RootElement(), "a?b"), "a?b", {1.0});
}

TEST(PlotHistory, RejectsEmptyAndMismatchedHistories) {
  expect_error<ValueError>([] { history_svg(History{}); }, {"plot_history", "empty", "no epochs"});
  History no_values;
  no_values.epochs = 3;
  expect_error<ValueError>([&] { history_svg(no_values); }, {"plot_history", "empty"});

  History mismatched;  // built by hand, without the epochs each series was recorded at
  mismatched.history = {{"loss", {1.0, 0.5, 0.2}}, {"val_loss", {1.0}}};
  mismatched.epochs = 3;
  expect_error<ValueError>([&] { history_svg(mismatched); },
                           {"plot_history", "'val_loss'", "1 values", "3 epochs"});
  expect_error<ValueError>([&] { plot_history(mismatched, ::testing::TempDir() + "/x.svg"); },
                           {"plot_history", "'val_loss'"});

  expect_error<ValueError>([] { history_svg(sample_history(), {.width = 100}); },
                           {"plot_history", "100 x 320"});
}

TEST(PlotHistory, WritesTheSvgToAFile) {
  const std::string path = ::testing::TempDir() + "/lamina_plot_history.svg";
  const auto read = [&] {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  const History h = sample_history();
  plot_history(h, path, {.title = "first"});
  EXPECT_EQ(read(), history_svg(h, {.title = "first"}));
  plot_history(h, path);  // replaces it
  EXPECT_EQ(read(), history_svg(h));

  const std::string missing = ::testing::TempDir() + "/lamina_no_such_dir/curves.svg";
  expect_error<IoError>([&] { plot_history(h, missing); }, {missing, "does not exist"});
  EXPECT_FALSE(std::filesystem::exists(missing));
}

}  // namespace
}  // namespace lamina
