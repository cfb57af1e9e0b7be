// The one translation unit of each test executable that compiles what the tests declare extern
// (they build with LAMINA_EXTERN_TEMPLATES; see lamina/extern_templates.hpp).
#include <lamina/instantiate.hpp>
