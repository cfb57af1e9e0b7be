// The program each consumer project under tests/package/ builds: it uses lamina (and Eigen,
// which must reach it through lamina's usage requirements) the way a downstream project would.
#include <cstdio>
#include <cstring>

#include <Eigen/Core>

#include <lamina/lamina.hpp>

int main() {
  std::printf("lamina %s via %s\n", LAMINA_VERSION_STRING, LAMINA_CONSUMER_KIND);
  if (std::strcmp(LAMINA_VERSION_STRING, LAMINA_EXPECTED_VERSION) != 0) {
    std::fprintf(stderr, "expected lamina %s\n", LAMINA_EXPECTED_VERSION);
    return 1;
  }
  const Eigen::Vector2d v(1.0, 2.0);
  return v.sum() == 3.0 ? 0 : 1;
}
