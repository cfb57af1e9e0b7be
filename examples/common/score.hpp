#pragma once

// The classifier score of generated images (Salimans et al. 2016's "inception score", with the
// tutorial CNN in place of Inception): exp(E_x[KL(p(y|x) || p(y))]), where p(y|x) are the
// classifier's class probabilities for image x and p(y) their mean over all images. It is 1
// when every image gets the same prediction and at most 10 (the number of classes) when each is
// classified confidently and the classes are equally frequent: it rewards images that look
// clearly like one garment each, and garments of every kind.

#include <algorithm>
#include <cmath>
#include <iostream>
#include <string>
#include <vector>

#include <lamina/lamina.hpp>

namespace lamina::examples {

/// The classifier score of `images` [n, 28, 28, 1] with values in [0, 1], under `classifier`
/// (a trained `cnn` model: images -> [n, 10] softmax probabilities).
inline double classifier_score(Model<float>& classifier, const Tensor<float>& images) {
  const Tensor<float> p = classifier.predict(images, {.batch_size = 256});
  check<ShapeError>(p.rank() == 2 && p.dim(0) == images.dim(0), "classifier_score: expected ",
                    "class probabilities [", images.dim(0), ", classes], got ", p.shape());
  const index_t n = p.dim(0), k = p.dim(1);
  std::vector<double> marginal(std::size_t(k), 0.0);
  for (index_t i = 0; i < n; ++i)
    for (index_t c = 0; c < k; ++c) marginal[std::size_t(c)] += double(p.data()[i * k + c]) / n;
  // p log(p / q) is 0 for p = 0; a class nobody predicts (q = 0) has p = 0 everywhere too.
  double kl = 0.0;
  for (index_t i = 0; i < n; ++i)
    for (index_t c = 0; c < k; ++c) {
      const double pc = double(p.data()[i * k + c]);
      if (pc > 0.0) kl += pc * std::log(pc / marginal[std::size_t(c)]);
    }
  return std::exp(kl / double(n));
}

/// Samples in [-1, 1] (a tanh generator's output, any shape [n, 784...]) as images
/// [n, 28, 28, 1] in [0, 1], the classifier's input.
inline Tensor<float> tanh_to_unit_images(const Tensor<float>& samples) {
  Tensor<float> out = Tensor<float>::empty(samples.shape());
  for (index_t i = 0; i < samples.size(); ++i)
    out.data()[i] = std::clamp(0.5f * (samples.data()[i] + 1.0f), 0.0f, 1.0f);
  return out.reshape({-1, 28, 28, 1});
}

/// Prints the classifier score of `count` samples of `sample(count)` beside that of the real
/// test images, with the classifier loaded from `path`.
template <class SampleFn>
void report_classifier_score(const std::string& path, SampleFn sample, const Dataset<float>& data,
                             index_t count = 10000) {
  const auto classifier = load_model<float>(path);
  const double generated = classifier_score(*classifier, tanh_to_unit_images(sample(count)));
  const double real = classifier_score(*classifier, data.x_test);
  std::cout << "Classifier score (" << path << "): " << generated << " on " << count
            << " generated images, " << real << " on the " << data.x_test.dim(0)
            << " real test images (at most 10)\n";
}

}  // namespace lamina::examples
