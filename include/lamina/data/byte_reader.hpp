#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <span>
#include <string>
#include <utility>
#include <vector>

#if __has_include(<zlib.h>)
#include <zlib.h>
#define LAMINA_HAS_ZLIB 1
#else
#define LAMINA_HAS_ZLIB 0
#endif

#include "lamina/core/error.hpp"

namespace lamina::detail {

/// Reads the bytes of a file, or of a buffer in memory, in order, decompressing them when they
/// start with the gzip magic (0x1f 0x8b); anything else is read as it is. gzip is checked end to
/// end (zlib's inflate in gzip mode): each member's CRC32 and length trailer must match, members
/// may follow one another (as `cat a.gz b.gz` makes), and anything else after the last member is
/// an error, as trailing bytes are for a raw file. Errors are IoError naming `name` (the path).
class ByteReader {
 public:
  /// Reads the file at `path`.
  explicit ByteReader(std::string path) : name_(std::move(path)) {
    file_.open(name_, std::ios::binary);
    check<IoError>(file_.is_open(), name_, ": cannot open the file (missing or unreadable)");
    start();
  }
  /// Reads `data` (which must outlive the reader); `name` names it in errors.
  ByteReader(std::span<const std::uint8_t> data, std::string name)
      : name_(std::move(name)), memory_(data), in_memory_(true) {
    start();
  }
  ~ByteReader() {
#if LAMINA_HAS_ZLIB
    if (inflating_) inflateEnd(&zs_);
#endif
  }
  ByteReader(const ByteReader&) = delete;
  ByteReader& operator=(const ByteReader&) = delete;

  const std::string& name() const { return name_; }
  bool gzip() const { return gzip_; }

  /// Reads up to n bytes into out; returns how many were read (fewer only at the end of the
  /// data, or of the compressed input when a gzip stream is cut short: see finish()).
  std::size_t read(unsigned char* out, std::size_t n) {
    return gzip_ ? read_gzip(out, n) : read_input(out, n);
  }

  /// Throws IoError unless the data ended properly: for gzip, the last member ended with its
  /// trailer (a stream cut short reads as fewer bytes, which this names). Call after read()
  /// returned 0.
  void finish() const {
    check<IoError>(!gzip_ || !member_open_, name_,
                   ": truncated gzip stream: the compressed data ends before the end of its "
                   "stream (its CRC32 and length trailer are missing)");
  }

 private:
  void start() {
    unsigned char magic[2] = {0, 0};
    const std::size_t got = read_input(magic, 2);
    gzip_ = got == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
    if (!gzip_) {  // hand the two bytes back to read()
      pending_.assign(magic, magic + got);
      return;
    }
#if LAMINA_HAS_ZLIB
    check<IoError>(inflateInit2(&zs_, 16 + MAX_WBITS) == Z_OK, name_,
                   ": cannot start decompressing (zlib: out of memory)");
    inflating_ = true;
    buffer_.assign(magic, magic + 2);
    zs_.next_in = buffer_.data();
    zs_.avail_in = 2;
    member_open_ = true;
#else
    throw IoError(name_ +
                  ": the data is gzip-compressed, but lamina was compiled without zlib (install "
                  "zlib, e.g. Debian's zlib1g-dev, or gunzip the file first)");
#endif
  }

  /// Up to n bytes of the (compressed or raw) input itself.
  std::size_t read_input(unsigned char* out, std::size_t n) {
    std::size_t done = std::min(n, pending_.size());
    std::copy_n(pending_.begin(), done, out);
    pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(done));
    if (in_memory_) {
      const std::size_t take = std::min(n - done, memory_.size() - position_);
      std::copy_n(memory_.data() + position_, take, out + done);
      position_ += take;
      return done + take;
    }
    while (done < n) {
      const std::size_t want = std::min<std::size_t>(n - done, std::size_t{1} << 30);
      file_.read(reinterpret_cast<char*>(out + done), static_cast<std::streamsize>(want));
      const auto got = static_cast<std::size_t>(file_.gcount());
      if (got == 0) break;
      done += got;
    }
    return done;
  }

#if LAMINA_HAS_ZLIB
  /// Makes compressed input available; false at its end.
  bool refill() {
    if (zs_.avail_in > 0) return true;
    if (in_memory_) {  // inflate reads the buffer in place
      const std::size_t take = std::min<std::size_t>(memory_.size() - position_, 1u << 30);
      zs_.next_in = const_cast<Bytef*>(memory_.data() + position_);
      zs_.avail_in = static_cast<uInt>(take);
      position_ += take;
      return take > 0;
    }
    buffer_.resize(std::size_t{1} << 16);
    const std::size_t got = read_input(buffer_.data(), buffer_.size());
    zs_.next_in = buffer_.data();
    zs_.avail_in = static_cast<uInt>(got);
    return got > 0;
  }

  std::size_t read_gzip(unsigned char* out, std::size_t n) {
    std::size_t done = 0;
    while (done < n) {
      if (!member_open_) {
        // Between members: the input ends here, or another member starts.
        if (!refill()) break;
        if (zs_.avail_in < 2 && !in_memory_) {
          // Make sure both magic bytes are at hand before looking at them.
          const unsigned char first = zs_.next_in[0];
          buffer_.resize(std::size_t{1} << 16);
          buffer_[0] = first;
          const std::size_t got = read_input(buffer_.data() + 1, buffer_.size() - 1);
          zs_.next_in = buffer_.data();
          zs_.avail_in = static_cast<uInt>(got + 1);
        }
        check<IoError>(zs_.avail_in >= 2 && zs_.next_in[0] == 0x1f && zs_.next_in[1] == 0x8b, name_,
                       ": trailing data after the gzip stream (bytes that are not another gzip "
                       "member follow its end)");
        check<IoError>(inflateReset(&zs_) == Z_OK, name_, ": cannot restart decompressing");
        member_open_ = true;
      }
      if (!refill()) break;  // cut short: finish() reports it
      const std::size_t want = std::min<std::size_t>(n - done, std::size_t{1} << 30);
      zs_.next_out = out + done;
      zs_.avail_out = static_cast<uInt>(want);
      const int r = inflate(&zs_, Z_NO_FLUSH);
      done += want - zs_.avail_out;
      if (r == Z_STREAM_END) {
        member_open_ = false;  // its CRC32 and length have been checked by inflate
      } else if (r == Z_MEM_ERROR) {
        throw IoError(name_ + ": out of memory while decompressing");
      } else if (r != Z_OK && r != Z_BUF_ERROR) {
        throw IoError(name_ + ": corrupt gzip data (zlib: " +
                      (zs_.msg ? std::string(zs_.msg) : "error " + std::to_string(r)) + ")");
      }
    }
    return done;
  }
#else
  std::size_t read_gzip(unsigned char*, std::size_t) { return 0; }
#endif

  std::string name_;
  std::ifstream file_;
  std::span<const std::uint8_t> memory_;
  bool in_memory_ = false;
  std::size_t position_ = 0;
  std::vector<unsigned char> pending_;
  bool gzip_ = false;
  bool member_open_ = false;
#if LAMINA_HAS_ZLIB
  z_stream zs_{};
  bool inflating_ = false;
  std::vector<unsigned char> buffer_;
#endif
};

}  // namespace lamina::detail
