// libFuzzer target: lamina's model-file loader, from the safetensors bytes through the JSON
// configs to the rebuilt, compiled model with its optimizer state. Any input must end in a
// model or a lamina::Error: never a crash, a hang, a leak or an allocation beyond the loader's
// limit. Seed corpus: tests/fuzz/corpus/model_file/ (small files written by lamina).
#include <cstddef>
#include <cstdint>
#include <string>

#include <lamina/lamina.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    const lamina::SafetensorsFile file = lamina::SafetensorsFile::parse(
        std::string(reinterpret_cast<const char*>(data), size), "fuzz.safetensors");
    const auto model = lamina::load_model<float>(file);
    (void)model;
  } catch (const lamina::Error&) {
    // A clean rejection.
  }
  return 0;
}
