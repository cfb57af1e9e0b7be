// Smoke test: the umbrella header compiles and reports the version CMake read from it.
#include <gtest/gtest.h>

#include <string>

#include <lamina/lamina.hpp>

TEST(Smoke, VersionStringMatchesNumbers) {
  const std::string expected = std::to_string(LAMINA_VERSION_MAJOR) + "." +
                               std::to_string(LAMINA_VERSION_MINOR) + "." +
                               std::to_string(LAMINA_VERSION_PATCH);
  EXPECT_EQ(expected, LAMINA_VERSION_STRING);
}
