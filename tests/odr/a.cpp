// With b.cpp: <lamina/lamina.hpp> in two translation units of one executable. A non-template
// function defined in a header without `inline` is then defined twice and the link fails,
// so this test's real check happens at link time.
#include <gtest/gtest.h>

#include <lamina/lamina.hpp>

namespace lamina_odr {
const char* version_string_from_b();  // defined in b.cpp
}  // namespace lamina_odr

TEST(Odr, UmbrellaHeaderLinksFromTwoTranslationUnits) {
  EXPECT_STREQ(lamina_odr::version_string_from_b(), LAMINA_VERSION_STRING);
}
