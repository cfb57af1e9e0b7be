#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <new>
#include <span>
#include <string>
#include <vector>

#include "lamina/core/error.hpp"
#include "lamina/core/shape.hpp"
#include "lamina/core/tensor.hpp"
#include "lamina/data/byte_reader.hpp"
#include "lamina/data/byte_tensor.hpp"

namespace lamina {

namespace detail {

/// "an IDX file of unsigned bytes" for a data type code of the IDX format.
inline const char* idx_type_name(unsigned code) {
  switch (code) {
    case 0x08:
      return "unsigned bytes";
    case 0x09:
      return "signed bytes";
    case 0x0B:
      return "16-bit integers";
    case 0x0C:
      return "32-bit integers";
    case 0x0D:
      return "32-bit floats";
    case 0x0E:
      return "64-bit floats";
    default:
      return nullptr;
  }
}

inline std::size_t idx_type_size(unsigned code) {
  switch (code) {
    case 0x08:
    case 0x09:
      return 1;
    case 0x0B:
      return 2;
    case 0x0C:
    case 0x0D:
      return 4;
    default:
      return 8;
  }
}

inline std::string hex32(std::uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08X", v);
  return buf;
}

/// Big-endian unsigned integer of `bytes` bytes.
inline std::uint64_t big_endian(const unsigned char* p, std::size_t bytes) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < bytes; ++i) v = (v << 8) | p[i];
  return v;
}

/// One element of IDX type `code` at p, as T.
template <class T>
T idx_value(const unsigned char* p, unsigned code) {
  switch (code) {
    case 0x08:
      return static_cast<T>(p[0]);
    case 0x09:
      return static_cast<T>(static_cast<std::int8_t>(p[0]));
    case 0x0B:
      return static_cast<T>(static_cast<std::int16_t>(big_endian(p, 2)));
    case 0x0C:
      return static_cast<T>(static_cast<std::int32_t>(big_endian(p, 4)));
    case 0x0D: {
      const auto bits = static_cast<std::uint32_t>(big_endian(p, 4));
      float f;
      std::memcpy(&f, &bits, 4);
      return static_cast<T>(f);
    }
    default: {
      const std::uint64_t bits = big_endian(p, 8);
      double d;
      std::memcpy(&d, &bits, 8);
      return static_cast<T>(d);
    }
  }
}

}  // namespace detail

/// Options of read_idx and read_idx_bytes.
struct IdxOptions {
  /// The rank the file must have (3 for images [n, rows, cols], 1 for labels [n]); 0 accepts any.
  int rank = 0;
};

namespace detail {

/// An IDX file as stored: its data type code, its shape and its elements' raw (big-endian) bytes.
struct IdxContents {
  unsigned code = 0;
  Shape shape;
  std::vector<std::uint8_t> bytes;
};

/// The most data an IDX file may declare: 2^34 bytes (16 GiB), as the data and again as the
/// tensor read_idx makes of it. A header asking for more is an IoError naming the size, before
/// anything is allocated; below it, memory is allocated only as the data arrives, so a short file
/// that claims a huge size fails on the data actually present.
inline constexpr std::uint64_t kMaxIdxBytes = std::uint64_t{1} << 34;

/// Reads and checks an IDX file (see read_idx). With `unsigned_bytes_only` (read_idx_bytes),
/// any data type but 0x08 is an error, raised before the data is read. `tensor_element` is the
/// size of the element type read_idx converts to (for the size limit).
inline IdxContents read_idx_contents(ByteReader& in, IdxOptions options, bool unsigned_bytes_only,
                                     std::size_t tensor_element) {
  const std::string& path = in.name();
  std::array<unsigned char, 4> magic{};
  const std::size_t got_magic = in.read(magic.data(), 4);
  check<IoError>(got_magic == 4, path, ": truncated file: expected a 4-byte IDX header, got ",
                 got_magic, " bytes");
  const auto magic_value = static_cast<std::uint32_t>(big_endian(magic.data(), 4));
  const unsigned code = magic[2], rank = magic[3];
  const char* example = options.rank == 1   ? ", e.g. MNIST labels"
                        : options.rank == 3 ? ", e.g. MNIST images"
                                            : "";
  const std::string expected =
      options.rank == 0 ? std::string("0x0000TTNN (an IDX file: type code TT, NN dimensions)")
                        : cat(hex32(0x0800u + static_cast<std::uint32_t>(options.rank)),
                              " (an IDX file of unsigned bytes with ", options.rank, " dimension",
                              options.rank == 1 ? "" : "s", example, ")");
  check<IoError>(magic[0] == 0 && magic[1] == 0, path, ": wrong magic number ", hex32(magic_value),
                 ", expected ", expected, "; this is not an IDX file");
  check<IoError>(idx_type_name(code) != nullptr, path, ": wrong magic number ", hex32(magic_value),
                 ": unsupported IDX data type code ", hex32(code).replace(2, 6, ""),
                 " (supported: 0x08 ubyte, 0x09 byte, 0x0B short, 0x0C int, 0x0D float, "
                 "0x0E double)");
  check<IoError>(!unsigned_bytes_only || code == 0x08, path, ": wrong magic number ",
                 hex32(magic_value), ": read_idx_bytes reads IDX files of unsigned bytes (type ",
                 "code 0x08), but this one holds ", idx_type_name(code), " (type code ",
                 hex32(code).replace(2, 6, ""), "); read it with read_idx<T>");
  check<IoError>(options.rank == 0 || static_cast<int>(rank) == options.rank, path,
                 ": wrong magic number ", hex32(magic_value), ", expected ", expected,
                 "; the file has ", rank, " dimension", rank == 1 ? "" : "s", " of ",
                 idx_type_name(code));
  check<IoError>(rank > 0, path, ": wrong magic number ", hex32(magic_value),
                 ": an IDX file needs at least one dimension");

  std::vector<unsigned char> header(4 * std::size_t{rank});
  const std::size_t got_header = in.read(header.data(), header.size());
  check<IoError>(got_header == header.size(), path, ": truncated file: expected ", header.size(),
                 " bytes of dimensions after the magic number, got ", got_header);
  // Checked arithmetic: the element count is a product of four-byte dimensions, which can
  // overflow even 64 bits (and is 0 when any dimension is, whatever the others).
  std::vector<index_t> dims(rank);
  std::uint64_t count = 1;
  bool too_large = false;
  for (std::size_t i = 0; i < rank; ++i) {
    dims[i] = static_cast<index_t>(big_endian(&header[4 * i], 4));
    if (dims[i] == 0) continue;
    too_large = too_large || count > kMaxIdxBytes / static_cast<std::uint64_t>(dims[i]);
    if (!too_large) count *= static_cast<std::uint64_t>(dims[i]);
  }
  const bool empty = std::find(dims.begin(), dims.end(), index_t{0}) != dims.end();
  const std::uint64_t elem = idx_type_size(code);
  const std::string dims_text = Shape::format(dims);
  check<IoError>(
      !too_large && count * std::max<std::uint64_t>(elem, tensor_element) <= kMaxIdxBytes, path,
      ": dimensions ", dims_text, " of ", idx_type_name(code), " are too large: they declare ",
      too_large ? std::string("more than 2^34 values")
                : cat(count * elem, " bytes of data (",
                      count * std::max<std::uint64_t>(elem, tensor_element), " bytes as a tensor)"),
      "; lamina reads IDX files of at most 2^34 bytes (16 GiB)");
  if (empty) count = 0;
  IdxContents contents{code, Shape(std::move(dims)), {}};
  const auto expected_bytes = static_cast<std::size_t>(count * elem);

  // Read in chunks, so that a header claiming a huge size fails on the data actually present
  // rather than on one huge allocation; the buffer never grows beyond what the header declares.
  std::vector<std::uint8_t>& bytes = contents.bytes;
  constexpr std::size_t chunk = std::size_t{1} << 24;
  try {
    while (bytes.size() < expected_bytes) {
      const std::size_t old = bytes.size();
      // 64 KiB first, then doubling up to 16 MiB a chunk.
      const std::size_t step = std::min(chunk, std::max(old, std::size_t{1} << 16));
      bytes.reserve(std::min(expected_bytes, std::max(2 * old, old + step)));
      bytes.resize(old + std::min(step, expected_bytes - old));
      const std::size_t got = in.read(bytes.data() + old, bytes.size() - old);
      if (got < bytes.size() - old) {
        bytes.resize(old + got);
        break;
      }
    }
  } catch (const std::bad_alloc&) {
    throw IoError(cat(path, ": out of memory reading ", expected_bytes, " bytes of data for ",
                      "dimensions ", contents.shape));
  }
  if (bytes.size() == expected_bytes) {
    // Anything after the data is an error. Counted up to 1 MiB only: the rest of a gzip bomb
    // is never decompressed.
    unsigned char extra[4096];
    std::size_t trailing = 0;
    for (std::size_t got;
         trailing < (std::size_t{1} << 20) && (got = in.read(extra, sizeof extra)) > 0;)
      trailing += got;
    check<IoError>(trailing == 0, path, ": dimensions ", contents.shape, " of ",
                   idx_type_name(code), " disagree with the file size: they need ", expected_bytes,
                   " bytes of data, but the file holds ",
                   trailing < (std::size_t{1} << 20) ? "" : "at least ", expected_bytes + trailing);
  }
  check<IoError>(bytes.size() == expected_bytes, path, ": truncated file: expected ",
                 expected_bytes, " bytes of data for dimensions ", contents.shape, " of ",
                 idx_type_name(code), ", got ", bytes.size(),
                 in.gzip() ? " (the gzip stream ends early)" : "");
  in.finish();
  return contents;
}

}  // namespace detail

/// The name IDX data read from memory has in error messages.
inline constexpr const char* kIdxMemoryName = "IDX data in memory";

namespace detail {

template <class T>
Tensor<T> idx_tensor(ByteReader& in, IdxOptions options) {
  const IdxContents c = read_idx_contents(in, options, false, sizeof(T));
  Tensor<T> out;
  try {
    out = Tensor<T>::empty(c.shape);
  } catch (const std::bad_alloc&) {
    throw IoError(cat(in.name(), ": out of memory allocating a tensor of shape ", c.shape));
  }
  T* dst = out.data();
  const std::size_t count = static_cast<std::size_t>(out.size());
  if (c.code == 0x08) {
    for (std::size_t i = 0; i < count; ++i) dst[i] = static_cast<T>(c.bytes[i]);
  } else {
    const std::size_t elem = idx_type_size(c.code);
    for (std::size_t i = 0; i < count; ++i) dst[i] = idx_value<T>(&c.bytes[i * elem], c.code);
  }
  return out;
}

inline ByteTensor idx_byte_tensor(ByteReader& in, IdxOptions options,
                                  ByteTensorOptions byte_options) {
  IdxContents c = read_idx_contents(in, options, true, 1);
  return ByteTensor(std::move(c.shape), std::move(c.bytes), byte_options);
}

}  // namespace detail

/// Reads an IDX file (the MNIST format: yann.lecun.com/exdb/mnist), gzip-compressed or raw
/// (detected from the gzip magic bytes, not the file name), into a tensor of the file's shape,
/// e.g. images [n, rows, cols] with their raw values 0..255, labels [n]. Throws IoError naming
/// the file and the problem: missing, truncated, wrong magic number or rank, unsupported data
/// type, dimensions that disagree with the amount of data or declare more than 2^34 bytes
/// (detail::kMaxIdxBytes), or gzip data that is corrupt, fails its CRC32 or length check, or is
/// followed by anything but another gzip member.
template <class T>
Tensor<T> read_idx(const std::string& path, IdxOptions options = {}) {
  detail::ByteReader in(path);
  return detail::idx_tensor<T>(in, options);
}

/// read_idx from the bytes of an IDX file (raw or gzip) in memory; errors name
/// "IDX data in memory" instead of a path.
template <class T>
Tensor<T> read_idx(std::span<const std::uint8_t> data, IdxOptions options = {}) {
  detail::ByteReader in(data, kIdxMemoryName);
  return detail::idx_tensor<T>(in, options);
}

/// Reads an IDX file of unsigned bytes (type code 0x08, as MNIST's images and labels) into a
/// ByteTensor of the file's shape, holding the file's bytes without any conversion, to be
/// converted with `options`'s scale and offset. Throws IoError as read_idx does, and when the
/// file holds another data type.
inline ByteTensor read_idx_bytes(const std::string& path, IdxOptions options = {},
                                 ByteTensorOptions byte_options = {}) {
  detail::ByteReader in(path);
  return detail::idx_byte_tensor(in, options, byte_options);
}

/// read_idx_bytes from the bytes of an IDX file (raw or gzip) in memory.
inline ByteTensor read_idx_bytes(std::span<const std::uint8_t> data, IdxOptions options = {},
                                 ByteTensorOptions byte_options = {}) {
  detail::ByteReader in(data, kIdxMemoryName);
  return detail::idx_byte_tensor(in, options, byte_options);
}

/// Reads an IDX image file: [n, rows, cols] with the raw pixel values (0..255 for MNIST).
template <class T>
Tensor<T> read_idx_images(const std::string& path) {
  return read_idx<T>(path, {.rank = 3});
}

/// Reads an IDX label file: [n] with the raw label values.
template <class T>
Tensor<T> read_idx_labels(const std::string& path) {
  return read_idx<T>(path, {.rank = 1});
}

}  // namespace lamina
