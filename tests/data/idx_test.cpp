#include <zlib.h>

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
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

}  // namespace
}  // namespace lamina
