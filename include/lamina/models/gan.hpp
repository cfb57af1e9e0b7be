#pragma once

#include <cmath>
#include <functional>
#include <iostream>
#include <memory>
#include <numeric>
#include <string>
#include <utility>
#include <vector>

#include "lamina/losses/losses.hpp"
#include "lamina/models/model.hpp"
#include "lamina/ops/activation.hpp"
#include "lamina/ops/reduce.hpp"

namespace lamina {

/// Options of GAN::fit.
struct GANFitOptions {
  int epochs = 1;
  index_t batch_size = 32;
  /// One-sided label smoothing (Salimans et al. 2016): real samples are labelled 1 - this.
  double label_smoothing = 0.0;
  /// 0 silent, 1 progress bar, 2 one line per epoch.
  int verbose = 1;
  /// Seed of the shuffling and of the latent draws.
  std::uint64_t seed = 0;
  std::function<void(int epoch, const Logs& logs)> on_epoch_end{};
  std::ostream* output = nullptr;
};

/// A generative adversarial network (Goodfellow et al. 2014) with the non-saturating generator
/// loss: the discriminator D learns to tell real samples from generated ones, the generator G
/// learns to make D call its samples real.
/// G: latent [batch, latent_dim] -> sample [batch, ...]; D: sample -> one probability or logit
/// [batch, 1] (a final sigmoid is fused with the loss; a linear output is taken as a logit).
template <class T = float>
class GAN {
 public:
  template <class G, class D>
  requires std::derived_from<G, Model<T>> && std::derived_from<D, Model<T>> GAN(G generator,
                                                                                D discriminator,
                                                                                index_t latent_dim)
      : GAN(std::make_shared<G>(std::move(generator)),
            std::make_shared<D>(std::move(discriminator)), latent_dim) {}
  GAN(std::shared_ptr<Model<T>> generator, std::shared_ptr<Model<T>> discriminator,
      index_t latent_dim)
      : generator_(std::move(generator)),
        discriminator_(std::move(discriminator)),
        latent_dim_(latent_dim) {
    check<ValueError>(generator_ && discriminator_,
                      "GAN: the generator and discriminator must not be null");
    check<ValueError>(latent_dim > 0, "GAN: latent_dim must be positive, got ", latent_dim);
  }

  Model<T>& generator() { return *generator_; }
  Model<T>& discriminator() { return *discriminator_; }
  index_t latent_dim() const { return latent_dim_; }

  /// Sets the two optimizers (names or objects), e.g. Adam({.learning_rate = 2e-4, .beta_1 = 0.5}).
  void compile(OptimizerArg<T> d_optimizer, OptimizerArg<T> g_optimizer) {
    d_optimizer_ = d_optimizer.release();
    g_optimizer_ = g_optimizer.release();
    optimizers_built_ = false;
  }

  /// Trains on real samples x: [samples, ...]. History records per epoch the mean "d_loss",
  /// "g_loss", and the mean discriminator outputs "d_real" = D(x) and "d_fake" = D(G(z)).
  History fit(const Tensor<T>& x, GANFitOptions options = {}) {
    check(d_optimizer_ != nullptr, "GAN: fit needs compile(d_optimizer, g_optimizer) first");
    check<ValueError>(x.rank() >= 1 && x.dim(0) > 0, "GAN: fit got empty data (shape ", x.shape(),
                      ")");
    check<ValueError>(options.epochs > 0, "GAN: epochs must be positive, got ", options.epochs);
    check<ValueError>(options.batch_size > 0, "GAN: batch_size must be positive, got ",
                      options.batch_size);
    check<ValueError>(options.label_smoothing >= 0.0 && options.label_smoothing < 0.5,
                      "GAN: label_smoothing must be in [0, 0.5), got ", options.label_smoothing);
    prepare(Shape(std::vector<index_t>(x.shape().begin() + 1, x.shape().end())));
    std::ostream& out = options.output ? *options.output : std::cout;
    Generator gen(options.seed);
    const index_t n = x.dim(0);
    const index_t steps = detail::batch_count(n, options.batch_size);
    std::vector<index_t> order(static_cast<std::size_t>(n));
    History history;
    for (int epoch = 0; epoch < options.epochs; ++epoch) {
      if (options.verbose) out << "Epoch " << epoch + 1 << '/' << options.epochs << '\n';
      detail::epoch_order(order, true, gen);
      ProgressBar bar(steps, options.verbose, out);
      Logs sums{{"d_loss", 0.0}, {"g_loss", 0.0}, {"d_real", 0.0}, {"d_fake", 0.0}};
      Logs logs;
      for (index_t step = 0; step < steps; ++step) {
        const index_t begin = step * options.batch_size,
                      end = std::min(n, begin + options.batch_size);
        const Logs batch =
            step_on(detail::gather_rows(x, order, begin, end), options.label_smoothing, gen,
                    {"GAN", epoch + 1, step + 1, steps});
        for (const auto& [key, value] : batch) sums[key] += value;
        for (const auto& [key, value] : sums) logs[key] = value / double(step + 1);
        bar.update(step + 1, logs);
      }
      bar.finish(logs);
      history.append(logs);
      if (options.on_epoch_end) options.on_epoch_end(epoch, logs);
    }
    return history;
  }

  /// One discriminator update then one generator update on a batch of real samples; returns
  /// that batch's d_loss, g_loss, d_real and d_fake. A non-finite loss or gradient throws
  /// NonFiniteError before the update it would have corrupted: a bad d_loss leaves both parts as
  /// they were; a bad g_loss leaves the generator as it was (the discriminator's update of this
  /// batch, which was finite, stays).
  Logs train_step(const Tensor<T>& real, double label_smoothing, Generator& gen) {
    return step_on(real, label_smoothing, gen, {"GAN: train_step"});
  }

  /// n samples G(z) for z drawn from N(0, 1) with `seed`, in inference mode.
  Tensor<T> sample(index_t n, std::uint64_t seed = 0) {
    check<ValueError>(n > 0, "GAN: sample needs n > 0, got ", n);
    Generator gen(seed);
    return generator_->predict(latent(n, gen));
  }

 private:
  /// train_step, with `where` naming the step in errors.
  Logs step_on(const Tensor<T>& real, double label_smoothing, Generator& gen,
               const detail::StepPlace& where) {
    const index_t b = real.dim(0);
    const BinaryCrossentropy<T> bce({.from_logits = true});
    const Tensor<T> real_labels = Tensor<T>::full({b, 1}, T(1.0 - label_smoothing));
    const Tensor<T> fake_labels = Tensor<T>::zeros({b, 1});
    const Tensor<T> ones = Tensor<T>::ones({b, 1});
    generator_->set_training(true);
    discriminator_->set_training(true);
    const Restore modes{*this};  // inference mode again when the step ends, also by an error

    // Discriminator: real towards 1 (or 1 - smoothing), fakes towards 0; G is not differentiated.
    Tensor<T> fake;
    {
      NoGradGuard no_grad;
      fake = generator_->call(Variable<T>(latent(b, gen))).value();
    }
    d_optimizer_->zero_grad();
    const Variable<T> real_logits = logits(Variable<T>(real));
    const Variable<T> fake_logits = logits(Variable<T>(fake));
    Variable<T> d_loss = add(bce(real_logits, real_labels), bce(fake_logits, fake_labels));
    detail::check_finite_loss(double(d_loss.item()), where, "d_loss");
    d_loss.backward();
    detail::check_finite_gradients(discriminator_->layers(), where);
    d_optimizer_->step();

    // Generator: the non-saturating loss -log D(G(z)), i.e. fakes labelled real.
    g_optimizer_->zero_grad();
    Variable<T> g_loss = bce(logits(generator_->call(Variable<T>(latent(b, gen)))), ones);
    detail::check_finite_loss(double(g_loss.item()), where, "g_loss");
    g_loss.backward();
    d_optimizer_->zero_grad();  // D's gradients from the G step are not used
    detail::check_finite_gradients(generator_->layers(), where);
    g_optimizer_->step();
    return {{"d_loss", double(d_loss.item())},
            {"g_loss", double(g_loss.item())},
            {"d_real", mean_probability(real_logits)},
            {"d_fake", mean_probability(fake_logits)}};
  }

  /// Switches both parts back to inference mode when a step ends, normally or by an error.
  struct Restore {
    GAN& gan;
    ~Restore() {
      gan.generator_->set_training(false);
      gan.discriminator_->set_training(false);
    }
  };
  Tensor<T> latent(index_t n, Generator& gen) const {
    return Tensor<T>::normal({n, latent_dim_}, T(0), T(1), gen);
  }
  /// D's output as logits: a final sigmoid is stripped, a linear output is a logit already.
  Variable<T> logits(const Variable<T>& x) {
    auto [pre, activation] = discriminator_->call_pre_activation(x);
    check<ValueError>(activation == "sigmoid" || activation == "linear",
                      "GAN: the discriminator must end in a sigmoid or a linear output, got '",
                      activation, "'");
    return pre;
  }
  static double mean_probability(const Variable<T>& logits) {
    double s = 0.0;
    for (T v : logits.value()) s += 1.0 / (1.0 + std::exp(-double(v)));
    return s / double(logits.size());
  }
  /// Builds both parts, checks that they fit the data, and hands each optimizer its parameters.
  void prepare(const Shape& sample_shape) {
    if (!generator_->built()) generator_->build({latent_dim_});
    NoGradGuard no_grad;
    const Shape g_out = generator_->predict(Tensor<T>({1, latent_dim_})).shape();
    const Shape g_sample(std::vector<index_t>(g_out.begin() + 1, g_out.end()));
    check<ShapeError>(g_sample == sample_shape, "GAN: the generator makes samples ",
                      batch_shape_str(g_sample), " but the data has samples ",
                      batch_shape_str(sample_shape));
    if (!discriminator_->built()) discriminator_->build(sample_shape);
    const Shape d_out = discriminator_->predict(Tensor<T>(g_out)).shape();
    check<ShapeError>(d_out == Shape({1, 1}), "GAN: the discriminator must output [*, 1], got ",
                      d_out);
    if (!optimizers_built_) {
      d_optimizer_->build(discriminator_->trainable_variables());
      g_optimizer_->build(generator_->trainable_variables());
      optimizers_built_ = true;
    }
  }

  std::shared_ptr<Model<T>> generator_, discriminator_;
  index_t latent_dim_;
  std::unique_ptr<Optimizer<T>> d_optimizer_, g_optimizer_;
  bool optimizers_built_ = false;
};

}  // namespace lamina
