// stb_image_write's implementation (lamina/io/image.hpp), compiled once into the library
// lamina_examples_image that every example links, rather than into each example.
#define LAMINA_IMAGE_IMPLEMENTATION
#include "lamina/io/image.hpp"
