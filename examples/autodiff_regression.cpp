// Fits y = 3 sin(2x) + x^2 / 2 with a two-layer network written directly with lamina's
// autodiff API (Variables, ops, backward, a hand-written SGD step): the layer below the
// Keras-style models, for custom training loops.
#include <cmath>
#include <cstdio>

#include <lamina/lamina.hpp>

#include "common/cli.hpp"

using namespace lamina;

int main() try {
  Generator gen(7);
  const index_t n = 256, hidden = 32;
  Tensor<float> x_data = Tensor<float>::uniform({n, 1}, -2.0f, 2.0f, gen);
  Tensor<float> y_data({n, 1});
  for (index_t i = 0; i < n; ++i) {
    const float v = x_data.data()[i];
    y_data.data()[i] = 3.0f * std::sin(2.0f * v) + 0.5f * v * v;
  }
  const Variable<float> x(x_data), y(y_data);

  // Parameters: leaves that require a gradient.
  Variable<float> w1(Tensor<float>::normal({1, hidden}, 0.0f, 1.0f, gen), true);
  Variable<float> b1(Tensor<float>::zeros({hidden}), true);
  Variable<float> w2(Tensor<float>::normal({hidden, 1}, 0.0f, 1.0f / std::sqrt(float(hidden)), gen),
                     true);
  Variable<float> b2(Tensor<float>::zeros({1}), true);

  const float learning_rate = 0.02f;
  std::printf("lamina %s: fitting y = 3 sin(2x) + x^2/2 with a %ld-unit tanh network\n",
              LAMINA_VERSION_STRING, static_cast<long>(hidden));
  for (int step = 0; step <= 3000; ++step) {
    const Variable<float> prediction = matmul(tanh(matmul(x, w1) + b1), w2) + b2;
    Variable<float> loss = mean(square(prediction - y));
    loss.backward();
    {
      NoGradGuard no_grad;  // the update itself is not differentiated
      for (Variable<float>* p : {&w1, &b1, &w2, &b2}) {
        float* value = p->value().data();
        const Tensor<float> grad = p->grad();
        for (index_t k = 0; k < grad.size(); ++k) value[k] -= learning_rate * grad.data()[k];
        p->zero_grad();
      }
    }
    if (step % 300 == 0) std::printf("step %4d  loss %.5f\n", step, double(loss.item()));
  }
  return 0;
} catch (...) {
  return lamina::examples::report_error("autodiff_regression");
}
