// Placeholder until the autodiff regression example lands: prints lamina's version.
#include <cstdio>

#include <lamina/lamina.hpp>

int main() {
  std::printf("lamina %s\n", LAMINA_VERSION_STRING);
  return 0;
}
