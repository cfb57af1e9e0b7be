// The one translation unit that compiles what the examples declare extern (they build with
// LAMINA_EXTERN_TEMPLATES; see lamina/extern_templates.hpp).
#include <lamina/instantiate.hpp>
