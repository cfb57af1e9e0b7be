#include "lamina/ops/image_transform.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "support/op_check.hpp"
#include "support/reference.hpp"

namespace lamina {
namespace {

using testing::expect_error;
using testing::expect_gradients_match;
using testing::expect_tensor_near;
using testing::random_tensor;
using V = Variable<double>;

template <class T>
class ImageTransformTyped : public ::testing::Test {};
using Scalars = ::testing::Types<float, double>;
TYPED_TEST_SUITE(ImageTransformTyped, Scalars);

constexpr FillMode kFillModes[] = {FillMode::reflect, FillMode::wrap, FillMode::constant,
                                   FillMode::nearest};
constexpr Interpolation kInterpolations[] = {Interpolation::bilinear, Interpolation::nearest};

template <class T>
Tensor<T> transform_rows(const std::vector<std::vector<double>>& rows) {
  std::vector<double> flat;
  for (const auto& r : rows) flat.insert(flat.end(), r.begin(), r.end());
  return Tensor<double>({static_cast<index_t>(rows.size()), 8}, flat).template cast<T>();
}

TYPED_TEST(ImageTransformTyped, IdentityReturnsTheInputExactly) {
  using T = TypeParam;
  // A NaN pixel next to others shows that an integer point reads one pixel only.
  Tensor<T> img = random_tensor({2, 4, 5, 3}, 1).template cast<T>();
  img.data()[7] = std::numeric_limits<T>::quiet_NaN();
  const Variable<T> x(img);
  const Tensor<T> identity = transform_rows<T>({{1, 0, 0, 0, 1, 0, 0, 0}});
  for (FillMode fill : kFillModes) {
    for (Interpolation interp : kInterpolations) {
      SCOPED_TRACE(std::string(fill_mode_name(fill)) + " " + interpolation_name(interp));
      const Tensor<T> y =
          affine_transform(x, identity.reshape({8}), {.interpolation = interp, .fill_mode = fill})
              .value();
      ASSERT_EQ(y.shape(), img.shape());
      for (index_t i = 0; i < y.size(); ++i) {
        if (i == 7) {
          EXPECT_TRUE(std::isnan(y.data()[i]));
        } else {
          EXPECT_EQ(y.data()[i], img.data()[i]) << "at flat index " << i;
        }
      }
    }
  }
}

TYPED_TEST(ImageTransformTyped, FlipTransformsReverseTheAxesExactly) {
  using T = TypeParam;
  const index_t h = 3, w = 4;
  const Variable<T> x(Tensor<T>::arange(0, h * w * 2).reshape({1, h, w, 2}));
  const double r = double(h - 1), c = double(w - 1);
  for (Interpolation interp : kInterpolations) {
    SCOPED_TRACE(interpolation_name(interp));
    const AffineTransformOptions o{.interpolation = interp, .fill_mode = FillMode::reflect};
    const Tensor<T> lr =
        affine_transform(x, transform_rows<T>({{-1, 0, c, 0, 1, 0, 0, 0}}), o).value();
    const Tensor<T> ud =
        affine_transform(x, transform_rows<T>({{1, 0, 0, 0, -1, r, 0, 0}}), o).value();
    for (index_t i = 0; i < h; ++i)
      for (index_t j = 0; j < w; ++j)
        for (index_t ch = 0; ch < 2; ++ch) {
          EXPECT_EQ(lr.at({0, i, j, ch}), x.value().at({0, i, w - 1 - j, ch}));
          EXPECT_EQ(ud.at({0, i, j, ch}), x.value().at({0, h - 1 - i, j, ch}));
        }
  }
}

TYPED_TEST(ImageTransformTyped, WholePixelShiftFillsAsTheModeSays) {
  using T = TypeParam;
  // One row a b c d = 1 2 3 4, shifted right by 2 pixels: output x reads input x - 2.
  const Variable<T> x(Tensor<T>({1, 1, 4, 1}, {1, 2, 3, 4}));
  const Tensor<T> shift = transform_rows<T>({{1, 0, -2, 0, 1, 0, 0, 0}});
  const std::vector<std::pair<FillMode, std::vector<double>>> cases = {
      {FillMode::reflect, {2, 1, 1, 2}},  // (d c b a | a b c d): x = -2, -1 read b, a
      {FillMode::wrap, {3, 4, 1, 2}},
      {FillMode::constant, {9, 9, 1, 2}},
      {FillMode::nearest, {1, 1, 1, 2}},
  };
  for (const auto& [fill, want] : cases) {
    SCOPED_TRACE(fill_mode_name(fill));
    for (Interpolation interp : kInterpolations) {
      const AffineTransformOptions o{.interpolation = interp, .fill_mode = fill, .fill_value = 9};
      expect_tensor_near(affine_transform(x, shift, o).value(), {1, 1, 4, 1}, want, 0);
    }
  }
  // Half a pixel right, bilinear: each output is the mean of two neighbours; constant fill
  // weighs the fill value in.
  const Tensor<T> half = transform_rows<T>({{1, 0, -0.5, 0, 1, 0, 0, 0}});
  expect_tensor_near(
      affine_transform(x, half, {.fill_mode = FillMode::constant, .fill_value = 9}).value(),
      {1, 1, 4, 1}, {5, 1.5, 2.5, 3.5}, 1e-6);
  expect_tensor_near(affine_transform(x, half, {.fill_mode = FillMode::reflect}).value(),
                     {1, 1, 4, 1}, {1, 1.5, 2.5, 3.5}, 1e-6);
  expect_tensor_near(affine_transform(x, half, {.fill_mode = FillMode::wrap}).value(), {1, 1, 4, 1},
                     {2.5, 1.5, 2.5, 3.5}, 1e-6);
}

TYPED_TEST(ImageTransformTyped, OneTransformForAllEqualsOneEach) {
  using T = TypeParam;
  const Variable<T> x(random_tensor({3, 5, 4, 2}, 2).template cast<T>());
  const std::vector<double> t = {0.9, 0.2, 0.3, -0.15, 1.1, -0.2, 0.01, 0.02};
  const Tensor<T> one = transform_rows<T>({t}).reshape({8});
  const Tensor<T> each = transform_rows<T>({t, t, t});
  EXPECT_EQ(affine_transform(x, one).value().to_vector(),
            affine_transform(x, each).value().to_vector());
}

TEST(ImageTransformGrad, MatchesFiniteDifferences) {
  // Non-integer transforms, so that no point sits on a pixel boundary (where nearest
  // interpolation jumps); bilinear is linear in x anyway.
  const Tensor<double> t = transform_rows<double>({
      {0.8, -0.35, 1.3, 0.4, 0.9, -0.7, 0.0, 0.0},         // a rotation-like map reaching outside
      {1.7, 0.0, -2.1, 0.0, 1.45, -0.93, 0.0, 0.0},        // zoom out
      {0.93, 0.11, 0.37, -0.07, 1.08, 0.21, 0.02, -0.03},  // projective
  });
  std::uint64_t seed = 10;
  for (FillMode fill : kFillModes) {
    for (Interpolation interp : kInterpolations) {
      SCOPED_TRACE(std::string(fill_mode_name(fill)) + " " + interpolation_name(interp));
      const AffineTransformOptions o{.interpolation = interp, .fill_mode = fill, .fill_value = 0.3};
      expect_gradients_match(
          [t, o](const std::vector<V>& v) { return affine_transform(v[0], t, o); },
          {random_tensor({3, 4, 5, 2}, seed++)});
    }
  }
}

TEST(ImageTransformGrad, NoGradRecordsNothing) {
  V x(random_tensor({1, 3, 3, 1}, 3), true);
  NoGradGuard guard;
  EXPECT_FALSE(
      affine_transform(x, transform_rows<double>({{1, 0, 0.5, 0, 1, 0, 0, 0}})).requires_grad());
}

// By-hand reference (tests/ops/reference/gen_image_transform_reference.py: TensorFlow's
// documented transform and fill modes, cross-checked with PyTorch's grid_sample where the
// conventions agree), float64.
TYPED_TEST(ImageTransformTyped, MatchesReference) {
  using T = TypeParam;
  const double tol = std::is_same_v<T, double> ? 1e-12 : 2e-6;
  const testing::Reference ref("ops/reference/image_transform.txt");
  int cases = 0;
  for (const std::string& key : ref.names()) {
    const auto dot = key.find(".options");
    if (dot == std::string::npos) continue;
    const std::string name = key.substr(0, dot);
    SCOPED_TRACE(name);
    ++cases;
    const Tensor<double> opt = ref.tensor(key);
    const AffineTransformOptions o{
        .interpolation = opt.data()[0] == 0 ? Interpolation::nearest : Interpolation::bilinear,
        .fill_mode = kFillModes[static_cast<int>(opt.data()[1])],
        .fill_value = opt.data()[2]};
    Variable<T> x(ref.tensor<T>(name + ".x"), true);
    Variable<T> y = affine_transform(x, ref.tensor<T>(name + ".transforms"), o);
    testing::expect_matches_reference(y.value(), ref.tensor(name + ".y"), name + " y", tol);
    y.backward(ref.tensor<T>(name + ".upstream"));
    testing::expect_matches_reference(x.grad(), ref.tensor(name + ".dx"), name + " dx", tol);
  }
  EXPECT_EQ(cases, 11);
}

TEST(ImageTransformErrors, BadInputsNameOpAndValues) {
  const V x(Tensor<double>::zeros({2, 3, 3, 1}));
  const Tensor<double> good = transform_rows<double>({{1, 0, 0, 0, 1, 0, 0, 0}}).reshape({8});
  expect_error<ShapeError>(
      [&] {
        affine_transform(V(Tensor<double>::zeros({3, 3, 1})), good);
      },
      {"affine_transform", "[batch, height, width, channels]", "[3, 3, 1]"});
  expect_error<ShapeError>(
      [&] {
        affine_transform(x, Tensor<double>::zeros({2, 6}));
      },
      {"affine_transform", "[2, 8] or [8]", "[2, 3, 3, 1]", "[2, 6]"});
  expect_error<ShapeError>(
      [&] {
        affine_transform(x, Tensor<double>::zeros({3, 8}));
      },
      {"affine_transform", "[2, 8] or [8]", "[3, 8]"});
  Tensor<double> inf = good.clone();
  inf.data()[2] = std::numeric_limits<double>::infinity();
  expect_error<ValueError>([&] { affine_transform(x, inf); },
                           {"affine_transform", "finite", "inf", "index 2"});
  expect_error<ValueError>([&] { affine_transform(x, good, {.fill_value = std::nan("")}); },
                           {"affine_transform", "fill_value", "nan"});
  expect_error<ValueError>([] { parse_fill_mode("mirror"); },
                           {"fill_mode 'mirror'", "reflect, wrap, constant, nearest"});
  expect_error<ValueError>([] { parse_interpolation("bicubic"); },
                           {"interpolation 'bicubic'", "bilinear, nearest"});
  EXPECT_EQ(parse_fill_mode("wrap"), FillMode::wrap);
  EXPECT_EQ(parse_interpolation("nearest"), Interpolation::nearest);
}

}  // namespace
}  // namespace lamina
