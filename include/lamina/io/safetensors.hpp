#pragma once

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "lamina/core/config.hpp"
#include "lamina/core/error.hpp"
#include "lamina/core/shape.hpp"
#include "lamina/core/tensor.hpp"
#include "lamina/io/atomic_file.hpp"

namespace lamina {

static_assert(std::endian::native == std::endian::little,
              "lamina's safetensors code assumes a little-endian machine");

/// Element types of safetensors tensors that lamina reads and writes.
enum class Dtype { f32, f64 };

/// "F32", "F64": the safetensors name of a dtype.
inline const char* dtype_name(Dtype d) { return d == Dtype::f32 ? "F32" : "F64"; }
/// Bytes per element.
inline std::size_t dtype_size(Dtype d) { return d == Dtype::f32 ? 4 : 8; }
template <class T>
constexpr Dtype dtype_of() {
  return sizeof(T) == 4 ? Dtype::f32 : Dtype::f64;
}

/// A parsed and fully validated safetensors file (https://github.com/huggingface/safetensors:
/// 8-byte little-endian header length N, N bytes of JSON header, then the tensors' raw
/// little-endian, row-major bytes). Every malformation is an IoError naming the file and the
/// problem: lengths past the file or above 100 MB for the header, invalid UTF-8 or JSON, a
/// duplicate or empty name, an unknown dtype, negative or overflowing shapes, offsets that
/// overlap, leave gaps, run past the data or disagree with dtype x shape. Nothing is allocated
/// from a size read from the file before that size is checked against the file's length.
class SafetensorsFile {
 public:
  /// One tensor's entry in the header.
  struct Entry {
    std::string name;
    Dtype dtype;
    Shape shape;
    /// Byte range within the data section.
    std::size_t begin, end;
  };
  /// Largest header accepted (the reference implementation's limit).
  static constexpr std::uint64_t max_header_bytes = 100'000'000;

  /// Reads and validates the file at `path`.
  static SafetensorsFile read(const std::string& path) {
    std::ifstream in(path, std::ios::binary | std::ios::ate);
    check<IoError>(in.is_open(), path, ": cannot open the file (missing or unreadable)");
    const std::streamoff size = in.tellg();
    check<IoError>(size >= 0, path, ": cannot determine the file's size");
    std::string bytes(static_cast<std::size_t>(size), '\0');
    in.seekg(0);
    in.read(bytes.data(), size);
    check<IoError>(in.gcount() == size, path, ": read error");
    return parse(std::move(bytes), path);
  }
  /// Validates `bytes`, a whole file's contents; `label` names it in messages (a path).
  static SafetensorsFile parse(std::string bytes, std::string label) {
    SafetensorsFile f;
    f.label_ = std::move(label);
    f.bytes_ = std::move(bytes);
    f.validate();
    return f;
  }

  /// The file's name as given to read() or parse().
  const std::string& label() const { return label_; }
  /// `__metadata__`, the free-form string-to-string map (empty when absent).
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  /// The tensors, in the order of their data.
  const std::vector<Entry>& entries() const { return entries_; }
  bool contains(const std::string& name) const { return index_.count(name) != 0; }
  /// The entry called `name`; IoError naming the file when there is none.
  const Entry& entry(const std::string& name) const {
    const auto it = index_.find(name);
    check<IoError>(it != index_.end(), label_, ": no tensor named '", name, "'");
    return entries_[it->second];
  }
  /// The tensor called `name` as a Tensor<T> (F32 and F64 are converted to T).
  template <class T>
  Tensor<T> tensor(const std::string& name) const {
    const Entry& e = entry(name);
    Tensor<T> out = Tensor<T>::empty(e.shape);
    const char* src = bytes_.data() + data_start_ + e.begin;
    const auto n = static_cast<std::size_t>(e.shape.numel());
    if (e.dtype == dtype_of<T>()) {
      if (n) std::memcpy(out.data(), src, n * sizeof(T));
    } else if (e.dtype == Dtype::f32) {
      convert<float>(src, n, out.data());
    } else {
      convert<double>(src, n, out.data());
    }
    return out;
  }

 private:
  template <class From, class To>
  static void convert(const char* src, std::size_t n, To* out) {
    for (std::size_t i = 0; i < n; ++i) {
      From v;
      std::memcpy(&v, src + i * sizeof(From), sizeof(From));
      out[i] = static_cast<To>(v);
    }
  }

  template <class... Args>
  [[noreturn]] void fail(const Args&... what) const {
    throw IoError(detail::cat(label_, ": not a valid safetensors file: ", what...));
  }

  void validate() {
    if (bytes_.size() < 8)
      fail("it has ", bytes_.size(), " bytes, fewer than the 8 of the header length");
    std::uint64_t n = 0;
    std::memcpy(&n, bytes_.data(), 8);
    if (n > max_header_bytes)
      fail("the header length ", n, " exceeds the limit of ", max_header_bytes);
    if (n > bytes_.size() - 8)
      fail("the header length ", n, " runs past the end of the file (", bytes_.size() - 8,
           " bytes follow the length)");
    data_start_ = 8 + static_cast<std::size_t>(n);
    const std::string_view text(bytes_.data() + 8, static_cast<std::size_t>(n));
    Json header;
    std::set<std::string> names;
    bool duplicate = false;
    std::string duplicate_name;
    try {
      // The callback sees each key of the top-level object, to catch duplicates (which plain
      // JSON parsing would resolve silently, keeping the last).
      header = Json::parse(text, [&](int depth, nlohmann::json::parse_event_t event, Json& parsed) {
        if (event == nlohmann::json::parse_event_t::key && depth == 1 && !duplicate) {
          const std::string key = parsed.get<std::string>();
          if (!names.insert(key).second) {
            duplicate = true;
            duplicate_name = key;
          }
        }
        return true;
      });
    } catch (const nlohmann::json::exception& e) {
      fail("the header is not valid JSON (", e.what(), ")");
    }
    if (duplicate) fail("the header names '", duplicate_name, "' twice");
    if (!header.is_object()) fail("the header is not a JSON object");
    for (auto it = header.begin(); it != header.end(); ++it) {
      if (it.key() == "__metadata__") {
        read_metadata(it.value());
        continue;
      }
      entries_.push_back(read_entry(it.key(), it.value()));
    }
    check_layout();
    for (std::size_t i = 0; i < entries_.size(); ++i) index_[entries_[i].name] = i;
  }

  void read_metadata(const Json& m) {
    if (!m.is_object()) fail("__metadata__ is not an object of strings");
    for (auto it = m.begin(); it != m.end(); ++it) {
      if (!it.value().is_string()) fail("__metadata__ entry '", it.key(), "' is not a string");
      metadata_[it.key()] = it.value().get<std::string>();
    }
  }

  Entry read_entry(const std::string& name, const Json& j) {
    if (name.empty()) fail("a tensor has an empty name");
    if (!j.is_object()) fail("the entry of tensor '", name, "' is not an object");
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (it.key() != "dtype" && it.key() != "shape" && it.key() != "data_offsets")
        fail("tensor '", name, "' has an unknown field '", it.key(), "'");
    }
    Entry e;
    e.name = name;
    const auto dtype = j.find("dtype");
    if (dtype == j.end() || !dtype->is_string()) fail("tensor '", name, "' has no dtype string");
    const std::string d = dtype->get<std::string>();
    if (d == "F32")
      e.dtype = Dtype::f32;
    else if (d == "F64")
      e.dtype = Dtype::f64;
    else
      fail("tensor '", name, "' has dtype '", d, "'; lamina reads F32 and F64");

    const auto shape = j.find("shape");
    if (shape == j.end() || !shape->is_array()) fail("tensor '", name, "' has no shape array");
    if (shape->size() > 32) fail("tensor '", name, "' has rank ", shape->size(), " (at most 32)");
    std::vector<index_t> dims;
    std::uint64_t count = 1;
    bool overflow = false;
    for (const Json& v : *shape) {
      if (!v.is_number_unsigned())
        fail("tensor '", name, "' has a shape entry ", v.dump(), " that is not a size");
      const std::uint64_t dim = v.get<std::uint64_t>();
      if (dim > std::uint64_t(std::numeric_limits<index_t>::max()))
        fail("tensor '", name, "' has dimension ", dim, ", too large");
      if (dim != 0 && count > std::uint64_t(std::numeric_limits<index_t>::max()) / dim)
        overflow = true;
      count *= dim;
      dims.push_back(static_cast<index_t>(dim));
    }
    // Rejected even when a later dimension is 0: Shape::numel would overflow on the way.
    if (overflow)
      fail("tensor '", name, "' has shape ", shape->dump(), " whose element count overflows");
    e.shape = Shape(std::move(dims));

    const auto offsets = j.find("data_offsets");
    if (offsets == j.end() || !offsets->is_array() || offsets->size() != 2 ||
        !(*offsets)[0].is_number_unsigned() || !(*offsets)[1].is_number_unsigned())
      fail("tensor '", name, "' has no data_offsets [begin, end]");
    const std::uint64_t begin = (*offsets)[0].get<std::uint64_t>();
    const std::uint64_t end = (*offsets)[1].get<std::uint64_t>();
    if (begin > end)
      fail("tensor '", name, "' has data_offsets [", begin, ", ", end, "] with begin after end");
    const std::uint64_t data_size = bytes_.size() - data_start_;
    if (end > data_size)
      fail("tensor '", name, "' has data_offsets [", begin, ", ", end, "] running past the data (",
           data_size, " bytes)");
    const std::uint64_t elem = dtype_size(e.dtype);
    if (count > std::numeric_limits<std::uint64_t>::max() / elem || end - begin != count * elem)
      fail("tensor '", name, "' holds ", end - begin, " bytes but ", d, " ", e.shape, " needs ",
           count, " x ", elem);
    e.begin = static_cast<std::size_t>(begin);
    e.end = static_cast<std::size_t>(end);
    return e;
  }

  /// The tensors' byte ranges must tile the data section exactly: no overlap, no gap, nothing
  /// after the last one.
  void check_layout() {
    std::sort(entries_.begin(), entries_.end(), [](const Entry& a, const Entry& b) {
      return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
    });
    std::size_t at = 0;
    for (const Entry& e : entries_) {
      if (e.begin < at)
        fail("tensor '", e.name, "' overlaps the tensor before it (data_offsets [", e.begin, ", ",
             e.end, "])");
      if (e.begin > at)
        fail("there is a gap of ", e.begin - at, " bytes before tensor '", e.name, "'");
      at = e.end;
    }
    const std::size_t data_size = bytes_.size() - data_start_;
    if (at != data_size) fail(data_size - at, " bytes after the last tensor belong to none");
  }

  std::string label_;
  std::string bytes_;
  std::size_t data_start_ = 0;
  std::map<std::string, std::string> metadata_;
  std::vector<Entry> entries_;
  std::map<std::string, std::size_t> index_;
};

/// Collects tensors and metadata, then writes them as one safetensors file, atomically (see
/// write_file_atomically: a crash leaves the old file or the new one, never a torn one).
class SafetensorsWriter {
 public:
  /// Adds a tensor (kept by reference to its storage until write(); not copied). Names must be
  /// unique and non-empty.
  template <class T>
  void add(const std::string& name, const Tensor<T>& value) {
    check<ValueError>(!name.empty(), "safetensors: a tensor name must not be empty");
    check<ValueError>(names_.insert(name).second, "safetensors: the tensor name '", name,
                      "' is used twice");
    tensors_.push_back({name, value});
  }
  void set_metadata(const std::string& key, std::string value) {
    metadata_[key] = std::move(value);
  }

  /// The header: JSON padded with spaces to a multiple of 8 bytes, as the reference writer does.
  std::string header() const {
    Json h = Json::object();
    if (!metadata_.empty()) h["__metadata__"] = metadata_;
    std::size_t at = 0;
    for (const auto& entry : tensors_) {
      const std::string& name = entry.first;
      std::visit(
          [&](const auto& t) {
            using T = typename std::decay_t<decltype(t)>::value_type;
            const std::size_t bytes = static_cast<std::size_t>(t.size()) * sizeof(T);
            h[name] = {{"dtype", dtype_name(dtype_of<T>())},
                       {"shape", t.shape().dims()},
                       {"data_offsets", {at, at + bytes}}};
            at += bytes;
          },
          entry.second);
    }
    std::string text = h.dump();
    text.append((8 - text.size() % 8) % 8, ' ');
    return text;
  }

  /// Writes the file at `path` atomically; IoError naming the path on failure.
  void write(const std::string& path) const {
    const std::string text = header();
    const std::uint64_t n = text.size();
    std::string length(8, '\0');
    std::memcpy(length.data(), &n, 8);
    std::vector<std::string_view> parts{length, text};
    for (const auto& [name, value] : tensors_) {
      std::visit(
          [&](const auto& t) {
            using T = typename std::decay_t<decltype(t)>::value_type;
            parts.emplace_back(reinterpret_cast<const char*>(t.data()),
                               static_cast<std::size_t>(t.size()) * sizeof(T));
          },
          value);
    }
    write_file_atomically(path, parts);
  }

 private:
  std::vector<std::pair<std::string, std::variant<Tensor<float>, Tensor<double>>>> tensors_;
  std::set<std::string> names_;
  std::map<std::string, std::string> metadata_;
};

}  // namespace lamina
