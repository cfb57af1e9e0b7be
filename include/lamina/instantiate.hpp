#pragma once

/// Compiles what extern_templates.hpp declares. Include it in exactly one translation unit of a
/// program built with -DLAMINA_EXTERN_TEMPLATES (see extern_templates.hpp); it compiles float and
/// double. To spread the work over two translation units (built in parallel), define
/// LAMINA_INSTANTIATE_MANUALLY before including it and write LAMINA_INSTANTIATE(float) in one
/// and LAMINA_INSTANTIATE(double) in the other.

#include "lamina/extern_templates.hpp"

#define LAMINA_DETAIL_INSTANTIATE_CLASS_float(name) template class name<float>;
#define LAMINA_DETAIL_INSTANTIATE_CLASS_double(name) template class name<double>;

/// Compiles every class and function of extern_templates.hpp for T, which is float or double.
#define LAMINA_INSTANTIATE(T)                                \
  namespace lamina {                                         \
  LAMINA_EXTERN_CLASSES(LAMINA_DETAIL_INSTANTIATE_CLASS_##T) \
  LAMINA_EXTERN_FUNCTIONS(, T)                               \
  }

#ifndef LAMINA_INSTANTIATE_MANUALLY
LAMINA_INSTANTIATE(float)
LAMINA_INSTANTIATE(double)
#endif
