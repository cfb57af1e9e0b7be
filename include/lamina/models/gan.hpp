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

/// Options of GAN.
struct GANOptions {
  std::string name = "gan";
  /// One-sided label smoothing (Salimans et al. 2016): real samples are labelled 1 - this.
  double label_smoothing = 0.0;
};

/// A generative adversarial network (Goodfellow et al. 2014) with the non-saturating generator
/// loss: the discriminator D learns to tell real samples from generated ones, the generator G
/// learns to make D call its samples real.
/// G: latent [batch, latent_dim] -> sample [batch, ...]; D: sample -> one probability or logit
/// [batch, 1] (a final sigmoid is fused with the loss; a linear output is taken as a logit).
/// A GAN is a Model: fit(x, {...}) is Model::fit (shuffling, progress, History, callbacks) around
/// its train_step; its weights are "generator/..." and "discriminator/..." in model files;
/// predict(z) and call(z) run the generator.
template <class T = float>
class GAN : public Model<T> {
 public:
  template <class G, class D>
  requires std::derived_from<G, Model<T>> && std::derived_from<D, Model<T>> GAN(
      G generator, D discriminator, index_t latent_dim, GANOptions options = {})
      : GAN(std::make_shared<G>(std::move(generator)),
            std::make_shared<D>(std::move(discriminator)), latent_dim, std::move(options)) {}
  /// Builds both parts at once: G for latent vectors [latent_dim], D for G's samples.
  GAN(std::shared_ptr<Model<T>> generator, std::shared_ptr<Model<T>> discriminator,
      index_t latent_dim, GANOptions options = {})
      : Model<T>(options.name), latent_dim_(latent_dim), label_smoothing_(options.label_smoothing) {
    check<ValueError>(generator && discriminator,
                      "GAN: the generator and discriminator must not be null");
    check<ValueError>(latent_dim > 0, "GAN: latent_dim must be positive, got ", latent_dim);
    check<ValueError>(label_smoothing_ >= 0.0 && label_smoothing_ < 0.5,
                      "GAN: label_smoothing must be in [0, 0.5), got ", label_smoothing_);
    generator_ = &this->add_model(std::move(generator), "generator");
    discriminator_ = &this->add_model(std::move(discriminator), "discriminator");
    this->build({latent_dim_});  // the generator, through call()
    NoGradGuard no_grad;
    const Shape g_out = generator_->predict(Tensor<T>({1, latent_dim_})).shape();
    sample_shape_ = Shape(std::vector<index_t>(g_out.begin() + 1, g_out.end()));
    if (!discriminator_->built()) discriminator_->build(sample_shape_);
    const Shape d_out = discriminator_->predict(Tensor<T>(g_out)).shape();
    check<ShapeError>(d_out == Shape({1, 1}), "GAN: the discriminator must output [*, 1], got ",
                      d_out);
  }

  Model<T>& generator() { return *generator_; }
  Model<T>& discriminator() { return *discriminator_; }
  index_t latent_dim() const { return latent_dim_; }
  double label_smoothing() const { return label_smoothing_; }

  /// G(z): latent [batch, latent_dim] -> samples.
  Variable<T> call(const Variable<T>& z) override { return generator_->call(z); }

  /// Sets the two optimizers (names or objects), e.g. Adam({.learning_rate = 2e-4, .beta_1 = 0.5}).
  void compile(OptimizerArg<T> d_optimizer, OptimizerArg<T> g_optimizer) {
    d_optimizer_ = d_optimizer.release();
    g_optimizer_ = g_optimizer.release();
    optimizers_built_ = false;
  }
  bool compiled() const override { return d_optimizer_ != nullptr; }

  std::string class_name() const override { return "GAN"; }
  /// {"name", "latent_dim", "label_smoothing", "generator": spec, "discriminator": spec}.
  Json get_config() const override {
    return {{"name", this->name()},
            {"latent_dim", latent_dim_},
            {"label_smoothing", label_smoothing_},
            {"generator", generator_->spec()},
            {"discriminator", discriminator_->spec()}};
  }

  /// One discriminator update then one generator update on a batch of real samples with the
  /// latent draws of `gen`; returns that batch's d_loss, g_loss, d_real and d_fake. A
  /// non-finite loss or gradient throws NonFiniteError before the update it would have
  /// corrupted: a bad d_loss leaves both parts as they were; a bad g_loss leaves the generator
  /// as it was (the discriminator's update of this batch, which was finite, stays).
  Logs train_step(const Tensor<T>& real, double label_smoothing, Generator& gen) {
    prepare(real.shape());
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
  Model<T>* generator_ = nullptr;
  Model<T>* discriminator_ = nullptr;
  index_t latent_dim_;
  double label_smoothing_;
  Shape sample_shape_;
  std::unique_ptr<Optimizer<T>> d_optimizer_, g_optimizer_;
  bool optimizers_built_ = false;
  Generator latent_gen_;
  Logs sums_;
  index_t batches_ = 0;

 protected:
  /// Checks that the data's samples are what G makes, and hands each optimizer its parameters;
  /// the latent draws of a fit start from its seed.
  void prepare(const Shape& x) override {
    check(compiled(), "GAN: training needs compile(d_optimizer, g_optimizer) first");
    const Shape sample(std::vector<index_t>(x.begin() + 1, x.end()));
    check<ShapeError>(sample == sample_shape_, "GAN: the generator makes samples ",
                      batch_shape_str(sample_shape_), " but the data has samples ",
                      batch_shape_str(sample));
    // As Model::prepare: the variables trainable now, keeping known ones' state.
    d_optimizer_->set_parameters(discriminator_->trainable_variables());
    g_optimizer_->set_parameters(generator_->trainable_variables());
    optimizers_built_ = true;
    latent_gen_.seed(this->fit_seed() ^ 0x6A09E667F3BCC909ULL);
  }
  /// fit's step: one D and one G update (step_on), and the epoch's running means of d_loss,
  /// g_loss, d_real and d_fake.
  Logs train_step(const Tensor<T>& x, const Tensor<T>*, const Tensor<T>*) override {
    const Logs batch = step_on(x, label_smoothing_, latent_gen_, this->step_place());
    for (const auto& [key, value] : batch) sums_[key] += value;
    ++batches_;
    Logs logs;
    for (const auto& [key, value] : sums_) logs[key] = value / double(batches_);
    return logs;
  }
  void reset_metrics() override {
    Model<T>::reset_metrics();
    sums_.clear();
    batches_ = 0;
  }
};

}  // namespace lamina
