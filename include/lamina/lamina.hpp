#pragma once

/// The umbrella header: one include for all of lamina's public API.

#include "lamina/version.hpp"

#include "lamina/core/broadcast.hpp"
#include "lamina/core/config.hpp"
#include "lamina/core/error.hpp"
#include "lamina/core/random.hpp"
#include "lamina/core/registry.hpp"
#include "lamina/core/shape.hpp"
#include "lamina/core/tensor.hpp"

#include "lamina/autograd/grad_mode.hpp"
#include "lamina/autograd/gradcheck.hpp"
#include "lamina/autograd/variable.hpp"

#include "lamina/ops/activation.hpp"
#include "lamina/ops/arithmetic.hpp"
#include "lamina/ops/conv.hpp"
#include "lamina/ops/conv_transpose.hpp"
#include "lamina/ops/embedding.hpp"
#include "lamina/ops/gru.hpp"
#include "lamina/ops/linalg.hpp"
#include "lamina/ops/lstm.hpp"
#include "lamina/ops/math.hpp"
#include "lamina/ops/pool.hpp"
#include "lamina/ops/recurrent.hpp"
#include "lamina/ops/reduce.hpp"
#include "lamina/ops/rnn.hpp"
#include "lamina/ops/shape_ops.hpp"
#include "lamina/ops/softmax.hpp"
#include "lamina/ops/spatial.hpp"

#include "lamina/optimizers/adam.hpp"
#include "lamina/optimizers/optimizer.hpp"
#include "lamina/optimizers/registry.hpp"
#include "lamina/optimizers/rmsprop.hpp"
#include "lamina/optimizers/schedules.hpp"
#include "lamina/optimizers/sgd.hpp"

#include "lamina/layers/activation.hpp"
#include "lamina/layers/bidirectional.hpp"
#include "lamina/layers/conv2d.hpp"
#include "lamina/layers/conv2d_transpose.hpp"
#include "lamina/layers/dense.hpp"
#include "lamina/layers/dropout.hpp"
#include "lamina/layers/embedding.hpp"
#include "lamina/layers/global_pooling.hpp"
#include "lamina/layers/gru.hpp"
#include "lamina/layers/initializers.hpp"
#include "lamina/layers/layer.hpp"
#include "lamina/layers/lstm.hpp"
#include "lamina/layers/pooling.hpp"
#include "lamina/layers/recurrent.hpp"
#include "lamina/layers/registry.hpp"
#include "lamina/layers/reshape.hpp"
#include "lamina/layers/simple_rnn.hpp"
#include "lamina/layers/upsampling2d.hpp"
#include "lamina/layers/zero_padding2d.hpp"

#include "lamina/callbacks/callback.hpp"
#include "lamina/callbacks/callback_list.hpp"
#include "lamina/callbacks/csv_logger.hpp"
#include "lamina/callbacks/early_stopping.hpp"
#include "lamina/callbacks/learning_rate.hpp"
#include "lamina/callbacks/model_checkpoint.hpp"

#include "lamina/losses/loss.hpp"
#include "lamina/losses/losses.hpp"
#include "lamina/metrics/metrics.hpp"

#include "lamina/data/byte_tensor.hpp"
#include "lamina/data/dataset.hpp"
#include "lamina/data/idx.hpp"

#include "lamina/io/atomic_file.hpp"
#include "lamina/io/safetensors.hpp"

#include "lamina/models/autoencoder.hpp"
#include "lamina/models/gan.hpp"
#include "lamina/models/history.hpp"
#include "lamina/models/model.hpp"
#include "lamina/models/model_file.hpp"
#include "lamina/models/plot_history.hpp"
#include "lamina/models/saving.hpp"
#include "lamina/models/sequential.hpp"

// Opt-in: the factories behind load_model compiled once per program (extern_templates.hpp).
#ifdef LAMINA_EXTERN_TEMPLATES
#include "lamina/extern_templates.hpp"
#endif
