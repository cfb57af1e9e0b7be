#include <zlib.h>

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <span>
#include <string>
#include <vector>

#include "lamina/data/dataset.hpp"
#include "lamina/data/idx.hpp"

#include "support/op_check.hpp"

#ifndef LAMINA_TEST_DATA_DIR
#define LAMINA_TEST_DATA_DIR "tests"
#endif

namespace lamina {
namespace {

using Bytes = std::vector<unsigned char>;
using testing::expect_error;

const std::string kSlice = std::string(LAMINA_TEST_DATA_DIR) + "/../data/fashion-mnist-slice";

/// A fresh directory under the test temp dir, named after the running test.
std::string temp_dir() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  const std::filesystem::path dir = std::filesystem::path(::testing::TempDir()) / "lamina_idx" /
                                    (std::string(info->test_suite_name()) + "." + info->name());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir.string();
}

/// An IDX header: magic 0x0000<type><rank> and the big-endian dimensions.
Bytes idx_header(unsigned char type, const std::vector<std::uint32_t>& dims) {
  Bytes b{0, 0, type, static_cast<unsigned char>(dims.size())};
  for (std::uint32_t d : dims)
    for (int shift = 24; shift >= 0; shift -= 8)
      b.push_back(static_cast<unsigned char>(d >> shift));
  return b;
}

Bytes concat(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

void write_raw(const std::string& path, const Bytes& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
}

void write_gzip(const std::string& path, const Bytes& bytes) {
  gzFile f = gzopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())), int(bytes.size()));
  ASSERT_EQ(gzclose(f), Z_OK);
}

Bytes read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// ---- the bundled slice (gzip) ------------------------------------------------------------------

TEST(ReadIdx, ReadsTheBundledSliceImages) {
  const Tensor<float> x = read_idx_images<float>(kSlice + "/train-images-idx3-ubyte.gz");
  ASSERT_EQ(x.shape(), (Shape{2000, 28, 28}));
  double first = 0.0;
  for (index_t i = 0; i < 784; ++i) first += x.data()[i];
  EXPECT_EQ(first, 76247.0);  // sum of the first image's raw pixels (from Python's gzip)
  EXPECT_EQ(x.at({0, 14, 12}), 237.0f);
  EXPECT_EQ(x.at({0, 14, 26}), 77.0f);
  EXPECT_EQ(*std::max_element(x.begin(), x.end()), 255.0f);
  EXPECT_EQ(*std::min_element(x.begin(), x.end()), 0.0f);
}

TEST(ReadIdx, ReadsTheBundledSliceLabels) {
  const Tensor<double> y = read_idx_labels<double>(kSlice + "/train-labels-idx1-ubyte.gz");
  ASSERT_EQ(y.shape(), (Shape{2000}));
  EXPECT_EQ(y.slice(0, 10).to_vector(), (std::vector<double>{9, 0, 0, 3, 0, 2, 7, 2, 5, 5}));
  const Tensor<double> t = read_idx_labels<double>(kSlice + "/t10k-labels-idx1-ubyte.gz");
  ASSERT_EQ(t.shape(), (Shape{500}));
  EXPECT_EQ(t.slice(497, 500).to_vector(), (std::vector<double>{2, 7, 0}));
}

// ---- formats -----------------------------------------------------------------------------------

TEST(ReadIdx, RawAndGzipGiveTheSameTensorWhateverTheFileName) {
  const std::string dir = temp_dir();
  const Bytes file = concat(idx_header(0x08, {2, 3, 2}), {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 255});
  write_raw(dir + "/raw.gz", file);  // a misleading name: detection is by content
  write_gzip(dir + "/packed.idx", file);
  const Tensor<float> raw = read_idx<float>(dir + "/raw.gz");
  const Tensor<float> packed = read_idx<float>(dir + "/packed.idx");
  EXPECT_EQ(raw.shape(), (Shape{2, 3, 2}));
  EXPECT_EQ(raw.to_vector(), (std::vector<float>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 255}));
  EXPECT_EQ(packed.shape(), raw.shape());
  EXPECT_EQ(packed.to_vector(), raw.to_vector());
}

TEST(ReadIdx, ReadsSignedIntegerAndFloatTypes) {
  const std::string dir = temp_dir();
  write_raw(dir + "/short", concat(idx_header(0x0B, {3}), {0xFF, 0xFE, 0x01, 0x00, 0x00, 0x07}));
  EXPECT_EQ(read_idx<double>(dir + "/short").to_vector(), (std::vector<double>{-2, 256, 7}));
  write_raw(dir + "/byte", concat(idx_header(0x09, {2}), {0x80, 0x7F}));
  EXPECT_EQ(read_idx<double>(dir + "/byte").to_vector(), (std::vector<double>{-128, 127}));
  // 1.5f = 0x3FC00000, -2.0f = 0xC0000000
  write_gzip(dir + "/float", concat(idx_header(0x0D, {1, 2}), {0x3F, 0xC0, 0, 0, 0xC0, 0, 0, 0}));
  const Tensor<double> f = read_idx<double>(dir + "/float");
  EXPECT_EQ(f.shape(), (Shape{1, 2}));
  EXPECT_EQ(f.to_vector(), (std::vector<double>{1.5, -2.0}));
}

// ---- straight into bytes -----------------------------------------------------------------------

TEST(ReadIdxBytes, HoldsTheFileBytesWithoutConversion) {
  const std::string dir = temp_dir();
  const Bytes file = concat(idx_header(0x08, {2, 3, 2}), {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 255});
  write_raw(dir + "/raw", file);
  write_gzip(dir + "/packed", file);
  for (const std::string name : {"raw", "packed"}) {
    const ByteTensor b = read_idx_bytes(dir + "/" + name);
    EXPECT_EQ(b.shape(), (Shape{2, 3, 2})) << name;
    EXPECT_EQ(Bytes(b.begin(), b.end()), Bytes(file.begin() + 16, file.end())) << name;
    EXPECT_EQ(b.scale(), 1.0);
    EXPECT_EQ(b.to_tensor<float>().to_vector(), read_idx<float>(dir + "/" + name).to_vector());
  }
  const ByteTensor scaled = read_idx_bytes(dir + "/raw", {.rank = 3}, {.scale = 0.5, .offset = 1});
  EXPECT_EQ(scaled.to_tensor<double>().slice(1, 2).to_vector(),
            (std::vector<double>{4, 4.5, 5, 5.5, 6, 128.5}));
}

TEST(ReadIdxBytes, ReadsTheBundledSliceAsReadIdxDoes) {
  const std::string path = kSlice + "/t10k-images-idx3-ubyte.gz";
  const ByteTensor b = read_idx_bytes(path, {.rank = 3});
  const Tensor<float> x = read_idx_images<float>(path);
  ASSERT_EQ(b.shape(), (Shape{500, 28, 28}));
  EXPECT_EQ(b.to_tensor<float>().to_vector(), x.to_vector());
}

TEST(ReadIdxBytes, RejectsOtherDataTypesAndTheErrorsOfReadIdx) {
  const std::string dir = temp_dir();
  write_raw(dir + "/int", concat(idx_header(0x0C, {1}), {0, 0, 0, 7}));
  expect_error<IoError>([&] { read_idx_bytes(dir + "/int"); },
                        {dir + "/int", "0x00000C01", "read_idx_bytes", "unsigned bytes",
                         "type code 0x08", "32-bit integers", "0x0C", "read_idx<T>"});
  write_gzip(dir + "/float", concat(idx_header(0x0D, {1, 1}), {0x3F, 0xC0, 0, 0}));
  expect_error<IoError>([&] { read_idx_bytes(dir + "/float"); },
                        {dir + "/float", "32-bit floats", "0x0D"});
  write_raw(dir + "/signed", concat(idx_header(0x09, {1}), {0x80}));
  expect_error<IoError>([&] { read_idx_bytes(dir + "/signed"); }, {"signed bytes", "0x09"});
  // The checks shared with read_idx: missing, truncated, wrong rank.
  expect_error<IoError>([&] { read_idx_bytes(dir + "/missing"); },
                        {dir + "/missing", "cannot open"});
  write_raw(dir + "/short", concat(idx_header(0x08, {10, 2, 2}), Bytes(7, 1)));
  expect_error<IoError>([&] { read_idx_bytes(dir + "/short"); },
                        {dir + "/short", "truncated", "expected 40 bytes", "got 7"});
  const std::string labels = kSlice + "/train-labels-idx1-ubyte.gz";
  expect_error<IoError>([&] { read_idx_bytes(labels, {.rank = 3}); },
                        {labels, "expected 0x00000803", "1 dimension of unsigned bytes"});
  expect_error<ValueError>([&] { read_idx_bytes(labels, {}, {.scale = std::nan("")}); },
                           {"ByteTensor", "finite"});
}

// ---- bad files: each a lamina::Error naming the file and the problem ---------------------------

TEST(ReadIdx, MissingFile) {
  const std::string path = temp_dir() + "/no-such-file.gz";
  expect_error<IoError>([&] { read_idx<float>(path); }, {path, "cannot open"});
  static_assert(std::is_base_of_v<Error, IoError>);
}

TEST(ReadIdx, TruncatedRawFile) {
  const std::string path = temp_dir() + "/images";
  write_raw(path, concat(idx_header(0x08, {10, 28, 28}), Bytes(100, 7)));
  expect_error<IoError>(
      [&] { read_idx_images<float>(path); },
      {path, "truncated", "expected 7840 bytes of data", "[10, 28, 28]", "got 100"});
}

TEST(ReadIdx, TruncatedGzipFile) {
  const std::string dir = temp_dir();
  // A complete gzip stream of a truncated IDX file ...
  write_gzip(dir + "/short-data.gz", concat(idx_header(0x08, {5}), {1, 2, 3}));
  expect_error<IoError>([&] { read_idx_labels<float>(dir + "/short-data.gz"); },
                        {dir + "/short-data.gz", "truncated", "expected 5 bytes of data", "got 3"});
  // ... and a gzip stream cut short (the bundled slice, minus its last half).
  const Bytes whole = read_all(kSlice + "/t10k-labels-idx1-ubyte.gz");
  const std::string cut = dir + "/cut.gz";
  write_raw(cut,
            Bytes(whole.begin(), whole.begin() + static_cast<std::ptrdiff_t>(whole.size() / 2)));
  expect_error<IoError>([&] { read_idx_labels<float>(cut); },
                        {cut, "truncated", "expected 500 bytes of data"});
}

TEST(ReadIdx, TruncatedHeader) {
  const std::string dir = temp_dir();
  write_raw(dir + "/magic", {0, 0});
  expect_error<IoError>([&] { read_idx<float>(dir + "/magic"); },
                        {dir + "/magic", "truncated", "4-byte IDX header", "got 2"});
  Bytes dims = idx_header(0x08, {60000, 28, 28});
  dims.resize(dims.size() - 3);  // the last dimension cut short
  write_raw(dir + "/dims", dims);
  expect_error<IoError>([&] { read_idx<float>(dir + "/dims"); },
                        {dir + "/dims", "truncated", "expected 12 bytes of dimensions", "got 9"});
}

TEST(ReadIdx, WrongMagicNumber) {
  const std::string dir = temp_dir();
  write_raw(dir + "/png", {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A});
  expect_error<IoError>(
      [&] { read_idx_images<float>(dir + "/png"); },
      {dir + "/png", "wrong magic number 0x89504E47", "expected 0x00000803", "not an IDX file"});
  // A label file where images are expected: the magic number names the mismatch.
  const std::string labels = kSlice + "/train-labels-idx1-ubyte.gz";
  expect_error<IoError>([&] { read_idx_images<float>(labels); },
                        {labels, "wrong magic number 0x00000801", "expected 0x00000803",
                         "1 dimension of unsigned bytes"});
}

TEST(ReadIdx, UnsupportedDataType) {
  const std::string path = temp_dir() + "/type7";
  write_raw(path, concat(idx_header(0x07, {1}), {0}));
  expect_error<IoError>([&] { read_idx<float>(path); },
                        {path, "0x00000701", "unsupported IDX data type code 0x07"});
}

TEST(ReadIdx, DimensionsThatDisagreeWithTheFileSize) {
  const std::string dir = temp_dir();
  write_raw(dir + "/raw", concat(idx_header(0x08, {2, 2}), Bytes(6, 1)));
  expect_error<IoError>(
      [&] { read_idx<float>(dir + "/raw"); },
      {dir + "/raw", "[2, 2]", "disagree with the file size", "need 4 bytes", "holds 6"});
  write_gzip(dir + "/packed", concat(idx_header(0x0C, {1}), Bytes(9, 1)));
  expect_error<IoError>([&] { read_idx<float>(dir + "/packed"); },
                        {dir + "/packed", "[1]", "32-bit integers", "need 4 bytes", "holds 9"});
}

TEST(ReadIdx, CorruptGzipData) {
  const std::string dir = temp_dir();
  Bytes whole = read_all(kSlice + "/t10k-labels-idx1-ubyte.gz");
  for (std::size_t i = 20; i < 60; ++i) whole[i] ^= 0x5A;
  write_raw(dir + "/corrupt.gz", whole);
  try {
    read_idx_labels<float>(dir + "/corrupt.gz");
    ADD_FAILURE() << "expected an IoError";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find(dir + "/corrupt.gz"), std::string::npos) << e.what();
  }
}

// ---- checked arithmetic and checked gzip (issue 15, findings 3 and 5) --------------------------

/// `bytes` as one gzip member, compressed in memory at zlib `level`.
Bytes gzip_bytes(const Bytes& bytes, int level = Z_BEST_COMPRESSION) {
  z_stream zs{};
  EXPECT_EQ(deflateInit2(&zs, level, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
  Bytes out(deflateBound(&zs, static_cast<uLong>(bytes.size())));
  zs.next_in = const_cast<Bytef*>(bytes.data());
  zs.avail_in = static_cast<uInt>(bytes.size());
  zs.next_out = out.data();
  zs.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

std::span<const std::uint8_t> span_of(const Bytes& b) { return {b.data(), b.size()}; }

constexpr std::uint32_t kMax32 = 0xFFFFFFFFu;

TEST(ReadIdx, DimensionsWhoseProductOverflowsAreRejected) {
  // Finding 3: the product of the nonzero dimensions overflows 64 bits; a zero dimension, at
  // the end or in the middle, must not hide it.
  for (const std::vector<std::uint32_t>& dims : {std::vector<std::uint32_t>{kMax32, kMax32, 0},
                                                 {7, 0, kMax32, kMax32},
                                                 {kMax32, kMax32, kMax32}}) {
    const Bytes file = idx_header(0x08, dims);
    expect_error<IoError>([&] { read_idx<float>(span_of(file)); },
                          {"IDX data in memory", "dimensions [", "are too large", "2^34"});
    expect_error<IoError>([&] { read_idx_bytes(span_of(file)); }, {"are too large"});
  }
  // Zero elements with small dimensions are a valid (empty) file.
  const Bytes empty = idx_header(0x08, {7, 0, 3});
  EXPECT_EQ(read_idx<float>(span_of(empty)).shape(), (Shape{7, 0, 3}));
}

TEST(ReadIdx, AHeaderAskingForMoreThanTheLimitNamesTheSize) {
  // 2^36 bytes of doubles: an IoError naming the size, not std::bad_alloc.
  const Bytes doubles = idx_header(0x0E, {1u << 16, 1u << 17});
  expect_error<IoError>([&] { read_idx<float>(span_of(doubles)); },
                        {"[65536, 131072] of 64-bit floats are too large", "68719476736 bytes"});
  // 2^33 bytes as ubyte pass the limit, but read_idx<double> would make 2^36 bytes of them.
  const Bytes bytes = idx_header(0x08, {1u << 16, 1u << 17});
  expect_error<IoError>([&] { read_idx<double>(span_of(bytes)); },
                        {"8589934592 bytes of data", "68719476736 bytes as a tensor"});
  // Within the limit, memory follows the data present: a short file is reported as truncated.
  expect_error<IoError>([&] { read_idx_bytes(span_of(bytes)); },
                        {"truncated", "expected 8589934592 bytes", "got 0"});
}

TEST(ReadIdx, ReadsFromMemoryAsFromAFile) {
  const std::string dir = temp_dir();
  const Bytes file = concat(idx_header(0x0B, {2, 1}), {0xFF, 0xFE, 0x01, 0x00});
  write_raw(dir + "/raw", file);
  const Tensor<float> from_file = read_idx<float>(dir + "/raw");
  EXPECT_EQ(read_idx<float>(span_of(file)).to_vector(), from_file.to_vector());
  EXPECT_EQ(read_idx<float>(span_of(gzip_bytes(file))).to_vector(), from_file.to_vector());
  const Bytes labels = concat(idx_header(0x08, {3}), {1, 2, 3});
  EXPECT_EQ(read_idx_bytes(span_of(gzip_bytes(labels))).size(), 3);
}

TEST(ReadIdx, GzipMembersMayFollowOneAnother) {
  const Bytes file = concat(idx_header(0x08, {6}), {1, 2, 3, 4, 5, 6});
  const Bytes two = concat(gzip_bytes(Bytes(file.begin(), file.begin() + 7)),
                           gzip_bytes(Bytes(file.begin() + 7, file.end())));
  EXPECT_EQ(read_idx<float>(span_of(two)).to_vector(), (std::vector<float>{1, 2, 3, 4, 5, 6}));
  const std::string path = temp_dir() + "/two.gz";
  write_raw(path, two);
  EXPECT_EQ(read_idx<float>(path).to_vector(), (std::vector<float>{1, 2, 3, 4, 5, 6}));
}

TEST(ReadIdx, GzipWithoutItsTrailerIsTruncated) {
  const Bytes whole = gzip_bytes(concat(idx_header(0x08, {4}), {1, 2, 3, 4}));
  for (std::size_t cut : {4u, 8u}) {  // the length, then the CRC32 and the length
    const Bytes file(whole.begin(), whole.end() - static_cast<std::ptrdiff_t>(cut));
    expect_error<IoError>([&] { read_idx<float>(span_of(file)); },
                          {"truncated gzip stream", "CRC32 and length trailer"});
    const std::string path = temp_dir() + "/cut.gz";
    write_raw(path, file);
    expect_error<IoError>([&] { read_idx<float>(path); }, {path, "truncated gzip stream"});
  }
}

TEST(ReadIdx, GzipFollowedByGarbageIsRejected) {
  const Bytes whole = gzip_bytes(concat(idx_header(0x08, {4}), {1, 2, 3, 4}));
  for (const Bytes& garbage : {Bytes{0}, Bytes{'x', 'y', 'z'}, Bytes(1000, 0), Bytes{0x1f}}) {
    const Bytes file = concat(whole, garbage);
    expect_error<IoError>([&] { read_idx<float>(span_of(file)); },
                          {"trailing data after the gzip stream"});
    const std::string path = temp_dir() + "/garbage.gz";
    write_raw(path, file);
    expect_error<IoError>([&] { read_idx_bytes(path); },
                          {path, "trailing data after the gzip stream"});
  }
}

TEST(ReadIdx, GzipWithABadCrcOrLengthIsCorrupt) {
  const Bytes whole = gzip_bytes(concat(idx_header(0x08, {4}), {1, 2, 3, 4}));
  Bytes crc = whole, length = whole;
  crc[crc.size() - 8] ^= 0x01;        // first byte of the CRC32
  length[length.size() - 4] ^= 0x01;  // first byte of ISIZE
  expect_error<IoError>([&] { read_idx<float>(span_of(crc)); },
                        {"corrupt gzip data", "incorrect data check"});
  expect_error<IoError>([&] { read_idx<float>(span_of(length)); },
                        {"corrupt gzip data", "incorrect length check"});
}

TEST(ReadIdx, GzipBombStopsAfterTheDeclaredData) {
  // 64 MiB of zeros claiming 16 bytes: rejected after reading at most 1 MiB past the data.
  const Bytes bomb =
      gzip_bytes(concat(idx_header(0x08, {4, 4}), Bytes(std::size_t{64} << 20, 0)), Z_BEST_SPEED);
  ASSERT_LT(bomb.size(), std::size_t{1} << 20);
  expect_error<IoError>([&] { read_idx<float>(span_of(bomb)); },
                        {"[4, 4]", "need 16 bytes", "holds at least"});
}

}  // namespace
}  // namespace lamina
