#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <lamina/lamina.hpp>

#ifndef LAMINA_TEST_DATA_DIR
#define LAMINA_TEST_DATA_DIR "tests"
#endif

/// Reference values written by the generator scripts beside the tests
/// (tests/<dir>/reference/gen_*.py, run with Debian's /usr/bin/python3).
namespace lamina::testing {

/// Named tensors read from a reference file. The format is plain text, one tensor a line:
///
///     name rank d0 ... d(rank-1) v0 v1 ...
///
/// values row-major, printed with Python's repr (17 significant digits; `inf` and `nan` allowed).
/// Blank lines and lines starting with '#' are skipped. Names are unique within a file.
class Reference {
 public:
  /// Reads `path`; a relative path is taken from the tests/ directory (LAMINA_TEST_DATA_DIR).
  /// Throws lamina::Error naming the file and line on a missing file or a malformed line.
  explicit Reference(const std::string& path)
      : path_(!path.empty() && path[0] == '/' ? path
                                              : std::string(LAMINA_TEST_DATA_DIR) + "/" + path) {
    std::ifstream in(path_);
    check(static_cast<bool>(in), "Reference: cannot open ", path_);
    std::string line;
    for (int number = 1; std::getline(in, line); ++number) {
      if (line.empty() || line[0] == '#' || line.find_first_not_of(" \t\r") == std::string::npos)
        continue;
      parse_line(line, number);
    }
  }

  /// The tensor called `name`, converted to T. Throws lamina::Error when there is none.
  template <class T = double>
  Tensor<T> tensor(const std::string& name) const {
    const auto it = tensors_.find(name);
    check(it != tensors_.end(), "Reference: no tensor '", name, "' in ", path_);
    return it->second.template cast<T>();
  }

  bool contains(const std::string& name) const { return tensors_.count(name) != 0; }

  /// Every name in the file, sorted.
  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& entry : tensors_) out.push_back(entry.first);
    return out;
  }

  const std::string& path() const { return path_; }

 private:
  void parse_line(const std::string& line, int number) {
    std::istringstream words(line);
    std::string name, word;
    words >> name;
    std::vector<double> numbers;
    while (words >> word) {
      char* end = nullptr;
      errno = 0;
      const double v = std::strtod(word.c_str(), &end);
      check(end != word.c_str() && *end == '\0' && errno != ERANGE, "Reference: ", path_, ":",
            number, ": '", word, "' is not a number (tensor '", name, "')");
      numbers.push_back(v);
    }
    check(!numbers.empty() && numbers[0] >= 0 && numbers[0] == static_cast<int>(numbers[0]),
          "Reference: ", path_, ":", number, ": tensor '", name, "' lacks a valid rank");
    const auto rank = static_cast<std::size_t>(numbers[0]);
    check(numbers.size() >= 1 + rank, "Reference: ", path_, ":", number, ": tensor '", name,
          "' has rank ", rank, " but only ", numbers.size() - 1, " sizes");
    std::vector<index_t> dims;
    for (std::size_t i = 1; i <= rank; ++i) {
      check(numbers[i] >= 0 && numbers[i] == static_cast<double>(static_cast<index_t>(numbers[i])),
            "Reference: ", path_, ":", number, ": tensor '", name, "' has a bad size ", numbers[i]);
      dims.push_back(static_cast<index_t>(numbers[i]));
    }
    const Shape shape(std::move(dims));
    const std::vector<double> values(numbers.begin() + static_cast<std::ptrdiff_t>(1 + rank),
                                     numbers.end());
    check(static_cast<index_t>(values.size()) == shape.numel(), "Reference: ", path_, ":", number,
          ": tensor '", name, "' of shape ", shape, " needs ", shape.numel(), " values, got ",
          values.size());
    check(tensors_.count(name) == 0, "Reference: ", path_, ":", number, ": tensor '", name,
          "' appears twice");
    tensors_.emplace(name, Tensor<double>(shape, values));
  }

  std::string path_;
  std::map<std::string, Tensor<double>> tensors_;
};

/// How far a computed tensor is from a reference one: the largest
/// |actual - expected| / max(1, |expected|) over all elements (an absolute error for values
/// below 1, a relative one above), and where it occurs. A NaN on one side only counts as infinite.
struct Deviation {
  double max = 0.0;
  index_t index = -1;
  double actual = 0.0, expected = 0.0;
};

/// The Deviation of `actual` from `expected` (same number of elements).
template <class T>
Deviation deviation(const Tensor<T>& actual, const Tensor<double>& expected) {
  check<ShapeError>(actual.size() == expected.size(), "deviation: ", actual.shape(), " vs ",
                    expected.shape());
  Deviation d;
  for (index_t i = 0; i < actual.size(); ++i) {
    const double a = static_cast<double>(actual.data()[i]), e = expected.data()[i];
    double err = std::abs(a - e) / std::max(1.0, std::abs(e));
    if (std::isnan(a) || std::isnan(e)) err = std::isnan(a) && std::isnan(e) ? 0.0 : INFINITY;
    if (a == e) err = 0.0;  // equal infinities
    if (d.index < 0 || err > d.max) d = {err, i, a, e};
  }
  return d;
}

/// Expects `actual` to have the reference's shape and to deviate from it by at most `tolerance`
/// (see Deviation); prints the deviation found, so the real agreement shows in the test log.
template <class T>
void expect_matches_reference(const Tensor<T>& actual, const Tensor<double>& expected,
                              const std::string& what, double tolerance = 1e-6) {
  ASSERT_EQ(actual.shape(), expected.shape()) << what;
  const Deviation d = deviation(actual, expected);
  std::cout << "  [reference] " << what << ": max deviation " << d.max << "\n";
  EXPECT_LE(d.max, tolerance) << what << " at flat index " << d.index << ": got " << d.actual
                              << ", reference " << d.expected;
}

}  // namespace lamina::testing
