#pragma once

#include <memory>
#include <string>
#include <utility>

#include "lamina/models/model.hpp"

namespace lamina {

/// An encoder and a decoder trained together to reconstruct their input:
/// x [batch, ...] -> encoder -> code [batch, ...] -> decoder -> reconstruction like x.
/// Both parts are models (a Sequential or a custom Model) that the autoencoder owns.
template <class T = float>
class Autoencoder : public Model<T> {
 public:
  /// Takes ownership of the two parts, e.g. `Autoencoder<float>(std::move(enc), std::move(dec))`.
  template <class E, class D>
  requires std::derived_from<E, Model<T>> && std::derived_from<D, Model<T>> Autoencoder(
      E encoder, D decoder, std::string name = "autoencoder")
      : Autoencoder(std::make_shared<E>(std::move(encoder)),
                    std::make_shared<D>(std::move(decoder)), std::move(name)) {}
  Autoencoder(std::shared_ptr<Model<T>> encoder, std::shared_ptr<Model<T>> decoder,
              std::string name = "autoencoder")
      : Model<T>(std::move(name)) {
    check<ValueError>(encoder && decoder, this->name(),
                      ": the encoder and decoder must not be null");
    encoder_ = &this->add_model(std::move(encoder), "encoder");
    decoder_ = &this->add_model(std::move(decoder), "decoder");
  }

  std::string class_name() const override { return "Autoencoder"; }
  /// {"name": ..., "encoder": encoder's spec(), "decoder": decoder's spec()}.
  Json get_config() const override {
    return {{"name", this->name()}, {"encoder", encoder_->spec()}, {"decoder", decoder_->spec()}};
  }

  Model<T>& encoder() { return *encoder_; }
  Model<T>& decoder() { return *decoder_; }

  Variable<T> call(const Variable<T>& x) override { return decoder_->call(encoder_->call(x)); }
  std::pair<Variable<T>, std::string> call_pre_activation(const Variable<T>& x) override {
    return decoder_->call_pre_activation(encoder_->call(x));
  }

  using Model<T>::fit;
  using Model<T>::evaluate;
  /// Trains to reconstruct x: [samples, ...] (fit(x, x, options)).
  History fit(const Tensor<T>& x, FitOptions<T> options = {}) {
    return Model<T>::fit(x, x, std::move(options));
  }
  /// The reconstruction loss and metrics on x.
  Logs evaluate(const Tensor<T>& x, EvaluateOptions options = {}) {
    return Model<T>::evaluate(x, x, options);
  }
  /// The codes of x, in inference mode.
  Tensor<T> encode(const Tensor<T>& x, EvaluateOptions options = {}) {
    return encoder_->predict(x, options);
  }
  /// The reconstructions decoded from codes z, in inference mode.
  Tensor<T> decode(const Tensor<T>& z, EvaluateOptions options = {}) {
    return decoder_->predict(z, options);
  }

 private:
  // Owned by the Model base (add_model); the base keeps them alive and moves them along.
  Model<T>* encoder_ = nullptr;
  Model<T>* decoder_ = nullptr;
};

}  // namespace lamina
