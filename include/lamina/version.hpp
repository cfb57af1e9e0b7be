#pragma once

/// lamina's version; CMake reads these three lines, so keep their form.
#define LAMINA_VERSION_MAJOR 0
#define LAMINA_VERSION_MINOR 1
#define LAMINA_VERSION_PATCH 0

#define LAMINA_VERSION_STRING "0.1.0"
