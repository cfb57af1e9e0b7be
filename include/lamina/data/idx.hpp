#pragma once

#include <array>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#if __has_include(<zlib.h>)
#include <zlib.h>
#define LAMINA_HAS_ZLIB 1
#else
#define LAMINA_HAS_ZLIB 0
#endif

#include "lamina/core/error.hpp"
#include "lamina/core/shape.hpp"
#include "lamina/core/tensor.hpp"
#include "lamina/data/byte_tensor.hpp"

namespace lamina {

namespace detail {

/// Reads a file's bytes in order, decompressing it when it starts with the gzip magic
/// (0x1f 0x8b); any other file is read as it is.
class ByteReader {
 public:
  explicit ByteReader(std::string path) : path_(std::move(path)) {
    std::ifstream probe(path_, std::ios::binary);
    check<IoError>(probe.is_open(), path_, ": cannot open the file (missing or unreadable)");
    unsigned char magic[2] = {0, 0};
    probe.read(reinterpret_cast<char*>(magic), 2);
    gzip_ = probe.gcount() == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
    if (!gzip_) {
      raw_ = std::move(probe);
      raw_.clear();
      raw_.seekg(0);
      return;
    }
#if LAMINA_HAS_ZLIB
    gz_ = gzopen(path_.c_str(), "rb");
    check<IoError>(gz_ != nullptr, path_, ": cannot open the gzip stream");
#else
    throw IoError(path_ +
                  ": the file is gzip-compressed, but lamina was compiled without zlib (install "
                  "zlib, e.g. Debian's zlib1g-dev, or gunzip the file first)");
#endif
  }
  ~ByteReader() {
#if LAMINA_HAS_ZLIB
    if (gz_) gzclose(gz_);
#endif
  }
  ByteReader(const ByteReader&) = delete;
  ByteReader& operator=(const ByteReader&) = delete;

  const std::string& path() const { return path_; }
  bool gzip() const { return gzip_; }

  /// Reads up to n bytes into out; returns how many were read (fewer only at the end).
  std::size_t read(unsigned char* out, std::size_t n) {
    std::size_t done = 0;
    while (done < n) {
      const std::size_t want = std::min<std::size_t>(n - done, 1u << 30);
      std::size_t got = 0;
      if (!gzip_) {
        raw_.read(reinterpret_cast<char*>(out + done), static_cast<std::streamsize>(want));
        got = static_cast<std::size_t>(raw_.gcount());
      } else {
#if LAMINA_HAS_ZLIB
        const int r = gzread(gz_, out + done, static_cast<unsigned>(want));
        if (r < 0) {
          int code = 0;
          std::string message = gzerror(gz_, &code);
          if (message.rfind(path_ + ": ", 0) == 0) message.erase(0, path_.size() + 2);
          throw IoError(path_ + ": corrupt gzip data (zlib: " + message + ")");
        }
        got = static_cast<std::size_t>(r);
#endif
      }
      if (got == 0) break;
      done += got;
    }
    return done;
  }

 private:
  std::string path_;
  bool gzip_ = false;
  std::ifstream raw_;
#if LAMINA_HAS_ZLIB
  gzFile gz_ = nullptr;
#endif
};

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

/// Reads and checks an IDX file (see read_idx). With `unsigned_bytes_only` (read_idx_bytes),
/// any data type but 0x08 is an error, raised before the data is read.
inline IdxContents read_idx_contents(const std::string& path, IdxOptions options,
                                     bool unsigned_bytes_only) {
  ByteReader in(path);
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
  std::vector<index_t> dims(rank);
  std::size_t count = 1;
  const std::size_t elem = idx_type_size(code);
  for (std::size_t i = 0; i < rank; ++i) {
    dims[i] = static_cast<index_t>(big_endian(&header[4 * i], 4));
    check<IoError>(dims[i] == 0 || count <= std::numeric_limits<std::size_t>::max() / elem /
                                                static_cast<std::size_t>(dims[i]),
                   path, ": dimensions ", Shape(dims), " are too large");
    count *= static_cast<std::size_t>(dims[i]);
  }
  IdxContents contents{code, Shape(std::move(dims)), {}};
  const std::size_t expected_bytes = count * elem;

  // Read in chunks, so that a header claiming a huge size fails on the data actually present
  // rather than on one huge allocation.
  std::vector<std::uint8_t>& bytes = contents.bytes;
  constexpr std::size_t chunk = std::size_t{1} << 24;
  while (bytes.size() < expected_bytes) {
    const std::size_t old = bytes.size();
    bytes.resize(old + std::min(chunk, expected_bytes - old));
    const std::size_t got = in.read(bytes.data() + old, bytes.size() - old);
    if (got < bytes.size() - old) {
      bytes.resize(old + got);
      break;
    }
  }
  check<IoError>(bytes.size() == expected_bytes, path, ": truncated file: expected ",
                 expected_bytes, " bytes of data for dimensions ", contents.shape, " of ",
                 idx_type_name(code), ", got ", bytes.size());
  unsigned char extra[256];
  std::size_t trailing = 0;
  for (std::size_t got; (got = in.read(extra, sizeof extra)) > 0;) trailing += got;
  check<IoError>(trailing == 0, path, ": dimensions ", contents.shape, " of ", idx_type_name(code),
                 " disagree with the file size: they need ", expected_bytes,
                 " bytes of data, but the file holds ", expected_bytes + trailing);
  return contents;
}

}  // namespace detail

/// Reads an IDX file (the MNIST format: yann.lecun.com/exdb/mnist), gzip-compressed or raw
/// (detected from the gzip magic bytes, not the file name), into a tensor of the file's shape,
/// e.g. images [n, rows, cols] with their raw values 0..255, labels [n]. Throws IoError naming
/// the file and the problem: missing, truncated, wrong magic number or rank, unsupported data
/// type, or dimensions that disagree with the amount of data.
template <class T>
Tensor<T> read_idx(const std::string& path, IdxOptions options = {}) {
  const detail::IdxContents in = detail::read_idx_contents(path, options, false);
  Tensor<T> out = Tensor<T>::empty(in.shape);
  T* dst = out.data();
  const std::size_t count = static_cast<std::size_t>(out.size());
  if (in.code == 0x08) {
    for (std::size_t i = 0; i < count; ++i) dst[i] = static_cast<T>(in.bytes[i]);
  } else {
    const std::size_t elem = detail::idx_type_size(in.code);
    for (std::size_t i = 0; i < count; ++i)
      dst[i] = detail::idx_value<T>(&in.bytes[i * elem], in.code);
  }
  return out;
}

/// Reads an IDX file of unsigned bytes (type code 0x08, as MNIST's images and labels) into a
/// ByteTensor of the file's shape, holding the file's bytes without any conversion, to be
/// converted with `options`'s scale and offset. Throws IoError as read_idx does, and when the
/// file holds another data type.
inline ByteTensor read_idx_bytes(const std::string& path, IdxOptions options = {},
                                 ByteTensorOptions byte_options = {}) {
  detail::IdxContents in = detail::read_idx_contents(path, options, true);
  return ByteTensor(std::move(in.shape), std::move(in.bytes), byte_options);
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
