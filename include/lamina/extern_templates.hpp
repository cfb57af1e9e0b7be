#pragma once

/// Opt-in faster builds. The factories that name every layer and model class (what load_model
/// and Sequential::from_config reach) are the most expensive code a program instantiates: one
/// call to load_model compiles every layer's forward pass. This header declares them, for float
/// and double, as explicit instantiations compiled elsewhere, so a translation unit that loads
/// models no longer compiles them itself:
///
///   every translation unit    compile with -DLAMINA_EXTERN_TEMPLATES (lamina.hpp then
///                             includes this header), or include this header after lamina's
///   exactly one of them       #include <lamina/instantiate.hpp>, which compiles them
///
/// Without either, lamina stays header-only: nothing to link, each program compiles what it uses.

#include "lamina/layers/registry.hpp"
#include "lamina/models/saving.hpp"

/// The explicit instantiations for scalar T; `prefix` is `extern` for declarations, empty for
/// definitions (instantiate.hpp).
#define LAMINA_REGISTRY_INSTANTIATIONS(prefix, T)                            \
  prefix template Registry<LayerFactory<T>>& layer_registry<T>();            \
  prefix template std::shared_ptr<Layer<T>> layer_from_spec<T>(const Json&); \
  prefix template Registry<ModelFactory<T>>& model_registry<T>();            \
  prefix template std::shared_ptr<Model<T>> model_from_spec<T>(const Json&);

namespace lamina {

LAMINA_REGISTRY_INSTANTIATIONS(extern, float)
LAMINA_REGISTRY_INSTANTIATIONS(extern, double)

}  // namespace lamina
