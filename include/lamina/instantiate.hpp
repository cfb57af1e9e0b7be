#pragma once

/// Compiles what extern_templates.hpp declares, for float and double. Include it in exactly one
/// translation unit of a program built with -DLAMINA_EXTERN_TEMPLATES (see extern_templates.hpp).

#include "lamina/extern_templates.hpp"

namespace lamina {

LAMINA_REGISTRY_INSTANTIATIONS(, float)
LAMINA_REGISTRY_INSTANTIATIONS(, double)

}  // namespace lamina
