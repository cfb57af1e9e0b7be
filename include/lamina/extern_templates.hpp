#pragma once

/// Opt-in faster builds. Every layer, loss, optimizer, metric, callback and model class (and the
/// factories behind load_model, which name every layer class) is declared here, for float and
/// double, as an explicit instantiation compiled elsewhere, so a translation unit that uses them
/// no longer compiles their members itself (a test file of lamina's compiles 2-2.5x faster):
///
///   every translation unit    compile with -DLAMINA_EXTERN_TEMPLATES (lamina.hpp then
///                             includes this header), or include this header after lamina's
///   exactly one of them       #include <lamina/instantiate.hpp>, which compiles them
///
/// Without either, lamina stays header-only: nothing to link, each program compiles what it uses.
/// A class added to lamina is added to LAMINA_EXTERN_CLASSES below.

#include "lamina/callbacks/callback_list.hpp"
#include "lamina/callbacks/csv_logger.hpp"
#include "lamina/callbacks/early_stopping.hpp"
#include "lamina/callbacks/learning_rate.hpp"
#include "lamina/callbacks/model_checkpoint.hpp"
#include "lamina/layers/registry.hpp"
#include "lamina/losses/hinge.hpp"
#include "lamina/losses/losses.hpp"
#include "lamina/losses/probabilistic.hpp"
#include "lamina/losses/regression.hpp"
#include "lamina/metrics/metrics.hpp"
#include "lamina/models/saving.hpp"
#include "lamina/models/sequential.hpp"
#include "lamina/optimizers/adadelta.hpp"
#include "lamina/optimizers/adagrad.hpp"
#include "lamina/optimizers/adam.hpp"
#include "lamina/optimizers/adamax.hpp"
#include "lamina/optimizers/adamw.hpp"
#include "lamina/optimizers/lion.hpp"
#include "lamina/optimizers/nadam.hpp"
#include "lamina/optimizers/rmsprop.hpp"
#include "lamina/optimizers/sgd.hpp"

/// The class templates compiled once, each named as X(name) for a template `name<T>`.
// clang-format off
#define LAMINA_EXTERN_CLASSES(X)                                                               \
  /* layers */                                                                                 \
  X(Layer) X(Activation) X(AveragePooling1D) X(AveragePooling2D) X(BatchNormalization)         \
  X(Bidirectional) X(Conv1D) X(Conv2D) X(Conv2DTranspose) X(Dense) X(Dropout) X(ELU)           \
  X(Embedding) X(Flatten) X(GlobalAveragePooling1D) X(GlobalAveragePooling2D)                  \
  X(GlobalMaxPooling1D) X(GlobalMaxPooling2D) X(GRU) X(LSTM) X(LayerNormalization)             \
  X(LeakyReLU) X(MaxPooling1D) X(MaxPooling2D) X(ReLU) X(Rescaling) X(Reshape) X(SimpleRNN)    \
  X(Softmax) X(UpSampling2D) X(ZeroPadding2D)                                                  \
  X(InputLayer) X(Merge) X(Add) X(Subtract) X(Multiply) X(Average) X(Maximum) X(Minimum)       \
  X(Concatenate)                                                                               \
  X(detail::RandomImageTransform) X(RandomFlip) X(RandomRotation) X(RandomTranslation)         \
  X(RandomZoom)                                                                                \
  /* losses */                                                                                 \
  X(Loss) X(LossFunctionWrapper) X(MeanSquaredError) X(MeanAbsoluteError) X(Huber) X(LogCosh)  \
  X(CosineSimilarity) X(KLDivergence) X(Poisson) X(Hinge) X(BinaryCrossentropy)                \
  X(CategoricalCrossentropy) X(SparseCategoricalCrossentropy)                                  \
  /* optimizers */                                                                             \
  X(Optimizer) X(Adadelta) X(Adagrad) X(Adam) X(Adamax) X(AdamW) X(Lion) X(Nadam) X(RMSprop)   \
  X(SGD)                                                                                       \
  /* metrics */                                                                                \
  X(Metric) X(MeanMetric) X(Accuracy) X(BinaryAccuracy) X(CategoricalAccuracy)                 \
  X(SparseCategoricalAccuracy) X(TopKAccuracy) X(TopKCategoricalAccuracy)                      \
  X(SparseTopKCategoricalAccuracy) X(PrecisionOrRecall) X(Precision) X(Recall) X(AUC)          \
  X(MeanError)                                                                                 \
  /* callbacks */                                                                              \
  X(Callback) X(detail::CallbackList) X(ProgbarLogger) X(HistoryRecorder) X(CSVLogger)         \
  X(EarlyStopping) X(LearningRateScheduler) X(ReduceLROnPlateau) X(ModelCheckpoint)            \
  X(TerminateOnNaN) X(LambdaCallback)                                                          \
  /* models */                                                                                 \
  X(Model) X(Sequential) X(Autoencoder) X(GAN)

/// The function templates compiled once, for scalar T; `prefix` is `extern` for declarations,
/// empty for definitions (instantiate.hpp).
/// Besides the factories, the templates that the classes' inline members call (GCC compiles
/// inline members of an extern class template in each translation unit for inlining, and with
/// them everything they call that is not extern): the registries behind compile's strings and
/// the model file's reader and writer.
#define LAMINA_EXTERN_FUNCTIONS(prefix, T)                                                     \
  prefix template Registry<LayerFactory<T>>& layer_registry<T>();                              \
  prefix template std::shared_ptr<Layer<T>> layer_from_spec<T>(const Json&);                   \
  prefix template Registry<ModelFactory<T>>& model_registry<T>();                              \
  prefix template std::shared_ptr<Model<T>> model_from_spec<T>(const Json&);                   \
  prefix template std::unique_ptr<Optimizer<T>> make_optimizer<T>(const std::string&);         \
  prefix template std::unique_ptr<Optimizer<T>> optimizer_from_config<T>(const std::string&,   \
                                                                          const Json&);        \
  prefix template Registry<MetricFactory<T>>& metric_registry<T>();                            \
  prefix template Registry<LossFactory<T>>& loss_registry<T>();                                \
  prefix template void detail::ModelFile::save<Model<T>>(const Model<T>&, const std::string&,  \
                                                         const SaveOptions&);                  \
  prefix template void detail::ModelFile::restore<Model<T>>(Model<T>&,                         \
                                                            const SafetensorsFile&);           \
  prefix template void detail::ModelFile::assign_optimizer_state<Model<T>>(                    \
      Model<T>&, const SafetensorsFile&);                                                      \
  prefix template void detail::gemm<T>(bool, bool, index_t, index_t, index_t, const T*,        \
                                       index_t, const T*, index_t, T*, index_t, bool);

#define LAMINA_DETAIL_EXTERN_CLASS(name) \
  extern template class name<float>;                                                           \
  extern template class name<double>;

namespace lamina {

LAMINA_EXTERN_CLASSES(LAMINA_DETAIL_EXTERN_CLASS)
LAMINA_EXTERN_FUNCTIONS(extern, float)
LAMINA_EXTERN_FUNCTIONS(extern, double)

}  // namespace lamina
