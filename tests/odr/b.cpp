// Second translation unit of the ODR test (see a.cpp). It includes nothing but the umbrella
// header and is compiled without the tests' precompiled header, so it also proves that
// <lamina/lamina.hpp> compiles on its own.
#include <lamina/lamina.hpp>

namespace lamina_odr {
const char* version_string_from_b() { return LAMINA_VERSION_STRING; }
}  // namespace lamina_odr
