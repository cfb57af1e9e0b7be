#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <lamina/lamina.hpp>

namespace {

using lamina::index_t;
using lamina::IoError;
using lamina::SafetensorsFile;
using lamina::SafetensorsWriter;
using lamina::Shape;
using lamina::Tensor;

/// A file's bytes: the 8-byte length of `header`, the header, then `data`.
std::string file_bytes(const std::string& header, const std::string& data = "") {
  std::string out(8, '\0');
  const std::uint64_t n = header.size();
  std::memcpy(out.data(), &n, 8);
  return out + header + data;
}

/// Parsing `bytes` throws an IoError that names the file and contains `expected`.
void expect_invalid(const std::string& bytes, const std::string& expected) {
  try {
    SafetensorsFile::parse(bytes, "bad.safetensors");
    ADD_FAILURE() << "no error; expected one containing: " << expected;
  } catch (const IoError& e) {
    const std::string what = e.what();
    EXPECT_EQ(what.rfind("bad.safetensors: ", 0), 0u) << what;
    EXPECT_NE(what.find(expected), std::string::npos) << what;
  }
}

std::string temp_path(const std::string& name) {
  return (std::filesystem::path(::testing::TempDir()) / name).string();
}

TEST(Safetensors, WritesAndReadsFloatAndDouble) {
  SafetensorsWriter w;
  const Tensor<float> a({2, 3}, {1, 2, 3, 4, 5, 6});
  const Tensor<double> b({3}, {0.1, -0.2, 1e300});
  const Tensor<float> empty = Tensor<float>::zeros({0, 4});
  w.add("layer/a", a);
  w.add("b", b);
  w.add("empty", empty);
  w.set_metadata("format", "test");
  EXPECT_EQ(w.header().size() % 8, 0u);
  const std::string path = temp_path("roundtrip.safetensors");
  w.write(path);

  const SafetensorsFile f = SafetensorsFile::read(path);
  EXPECT_EQ(f.label(), path);
  EXPECT_EQ(f.metadata().at("format"), "test");
  ASSERT_EQ(f.entries().size(), 3u);
  EXPECT_EQ(f.entry("layer/a").dtype, lamina::Dtype::f32);
  EXPECT_EQ(f.entry("b").dtype, lamina::Dtype::f64);
  EXPECT_EQ(f.tensor<float>("layer/a").to_vector(), a.to_vector());
  EXPECT_EQ(f.tensor<double>("b").to_vector(), b.to_vector());
  EXPECT_EQ(f.tensor<float>("empty").shape(), (Shape{0, 4}));
  // Reading converts between F32 and F64.
  EXPECT_EQ(f.tensor<double>("layer/a").to_vector(), (std::vector<double>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(f.tensor<float>("b").to_vector()[1], -0.2f);
  EXPECT_THROW(f.entry("missing"), IoError);
}

TEST(Safetensors, WriterRejectsDuplicateAndEmptyNames) {
  SafetensorsWriter w;
  w.add("a", Tensor<float>({1}, {1}));
  EXPECT_THROW(w.add("a", Tensor<float>({1}, {1})), lamina::ValueError);
  EXPECT_THROW(w.add("", Tensor<float>({1}, {1})), lamina::ValueError);
}

TEST(Safetensors, WriteErrorsNameThePathAndLeaveNoTemporaryFile) {
  const std::filesystem::path dir = temp_path("write_errors");
  std::filesystem::create_directories(dir);
  SafetensorsWriter w;
  w.add("a", Tensor<float>({1}, {1}));
  try {
    w.write((dir / "no_such_dir" / "m.safetensors").string());
    ADD_FAILURE() << "no error";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("does not exist"), std::string::npos) << e.what();
  }
  try {
    w.write(dir.string());
    ADD_FAILURE() << "no error";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("it is a directory"), std::string::npos) << e.what();
  }
  EXPECT_THROW(w.write(""), IoError);
  EXPECT_TRUE(std::filesystem::is_empty(dir));
}

TEST(Safetensors, MissingFile) {
  try {
    SafetensorsFile::read(temp_path("does_not_exist.safetensors"));
    ADD_FAILURE() << "no error";
  } catch (const IoError& e) {
    EXPECT_NE(std::string(e.what()).find("cannot open"), std::string::npos) << e.what();
  }
}

// Malformed files: each is an IoError naming the file and the problem.
TEST(SafetensorsMalformed, ShorterThanTheLength) { expect_invalid("abc", "fewer than the 8"); }

TEST(SafetensorsMalformed, HeaderLengthPastTheEnd) {
  std::string bytes = file_bytes("{}");
  const std::uint64_t n = 100;
  std::memcpy(bytes.data(), &n, 8);
  expect_invalid(bytes, "runs past the end of the file");
}

TEST(SafetensorsMalformed, HeaderLengthAboveTheCap) {
  std::string bytes = file_bytes("{}");
  const std::uint64_t n = std::uint64_t(1) << 40;
  std::memcpy(bytes.data(), &n, 8);
  expect_invalid(bytes, "exceeds the limit");
}

TEST(SafetensorsMalformed, EmptyHeader) { expect_invalid(file_bytes(""), "not valid JSON"); }

TEST(SafetensorsMalformed, NotJson) { expect_invalid(file_bytes("{not json"), "not valid JSON"); }

TEST(SafetensorsMalformed, InvalidUtf8) {
  expect_invalid(file_bytes("{\"\xff\xfe\": {}}"), "not valid JSON");
}

TEST(SafetensorsMalformed, HeaderNotAnObject) {
  expect_invalid(file_bytes("[1, 2]"), "not a JSON object");
}

TEST(SafetensorsMalformed, EntryNotAnObject) {
  expect_invalid(file_bytes(R"({"a": 3})"), "entry of tensor 'a' is not an object");
}

TEST(SafetensorsMalformed, NoDtype) {
  expect_invalid(file_bytes(R"({"a": {"shape": [1], "data_offsets": [0, 4]}})", "abcd"),
                 "tensor 'a' has no dtype");
}

TEST(SafetensorsMalformed, UnknownDtype) {
  expect_invalid(
      file_bytes(R"({"a": {"dtype": "F99", "shape": [1], "data_offsets": [0, 4]}})", "abcd"),
      "has dtype 'F99'");
}

TEST(SafetensorsMalformed, UnsupportedDtype) {
  expect_invalid(
      file_bytes(R"({"a": {"dtype": "I64", "shape": [1], "data_offsets": [0, 8]}})", "abcdefgh"),
      "has dtype 'I64'; lamina reads F32 and F64");
}

TEST(SafetensorsMalformed, NoShape) {
  expect_invalid(file_bytes(R"({"a": {"dtype": "F32", "data_offsets": [0, 4]}})", "abcd"),
                 "has no shape array");
}

TEST(SafetensorsMalformed, NegativeDimension) {
  expect_invalid(
      file_bytes(R"({"a": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}})", "abcd"),
      "shape entry -1 that is not a size");
}

TEST(SafetensorsMalformed, FractionalDimension) {
  expect_invalid(
      file_bytes(R"({"a": {"dtype": "F32", "shape": [1.5], "data_offsets": [0, 4]}})", "abcd"),
      "that is not a size");
}

TEST(SafetensorsMalformed, ShapeOverflows) {
  expect_invalid(file_bytes(R"({"a": {"dtype": "F32", "shape": [4294967296, 4294967296],
                                      "data_offsets": [0, 4]}})",
                            "abcd"),
                 "element count overflows");
}

TEST(SafetensorsMalformed, ShapeOverflowsBeforeAZero) {
  expect_invalid(file_bytes(R"({"a": {"dtype": "F32", "shape": [4294967296, 4294967296, 0],
                                      "data_offsets": [0, 0]}})"),
                 "element count overflows");
}

TEST(SafetensorsMalformed, RankTooHigh) {
  std::string shape = "[";
  for (int i = 0; i < 33; ++i) shape += i ? ",1" : "1";
  expect_invalid(
      file_bytes(R"({"a": {"dtype": "F32", "shape": )" + shape + R"(], "data_offsets": [0, 4]}})",
                 "abcd"),
      "rank 33");
}

TEST(SafetensorsMalformed, NoOffsets) {
  expect_invalid(file_bytes(R"({"a": {"dtype": "F32", "shape": [1]}})", "abcd"),
                 "has no data_offsets");
}

TEST(SafetensorsMalformed, OffsetsOfWrongLength) {
  expect_invalid(
      file_bytes(R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0]}})", "abcd"),
      "has no data_offsets");
}

TEST(SafetensorsMalformed, NegativeOffset) {
  expect_invalid(
      file_bytes(R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [-4, 0]}})", "abcd"),
      "has no data_offsets");
}

TEST(SafetensorsMalformed, BeginAfterEnd) {
  expect_invalid(
      file_bytes(R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 0]}})", "abcd"),
      "begin after end");
}

TEST(SafetensorsMalformed, OffsetsPastTheData) {
  expect_invalid(
      file_bytes(R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}})", "abcd"),
      "running past the data (4 bytes)");
}

TEST(SafetensorsMalformed, SizeDisagreesWithShape) {
  expect_invalid(
      file_bytes(R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 4]}})", "abcd"),
      "holds 4 bytes but F32 [2] needs 2 x 4");
}

TEST(SafetensorsMalformed, OverlappingTensors) {
  expect_invalid(file_bytes(R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                                "b": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}})",
                            "abcdefgh"),
                 "overlaps the tensor before it");
}

TEST(SafetensorsMalformed, GapBetweenTensors) {
  expect_invalid(file_bytes(R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},
                                "b": {"dtype": "F32", "shape": [1], "data_offsets": [8, 12]}})",
                            "abcdefghijkl"),
                 "gap of 4 bytes before tensor 'b'");
}

TEST(SafetensorsMalformed, TrailingBytes) {
  expect_invalid(
      file_bytes(R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}})", "abcdXY"),
      "2 bytes after the last tensor belong to none");
}

TEST(SafetensorsMalformed, DuplicateName) {
  expect_invalid(file_bytes(R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},
                                "a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}})",
                            "abcdefgh"),
                 "names 'a' twice");
}

TEST(SafetensorsMalformed, EmptyName) {
  expect_invalid(
      file_bytes(R"({"": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}})", "abcd"),
      "empty name");
}

TEST(SafetensorsMalformed, MetadataNotAnObject) {
  expect_invalid(file_bytes(R"({"__metadata__": [1]})"), "__metadata__ is not an object");
}

TEST(SafetensorsMalformed, MetadataValueNotAString) {
  expect_invalid(file_bytes(R"({"__metadata__": {"format": 1}})"),
                 "__metadata__ entry 'format' is not a string");
}

TEST(SafetensorsMalformed, UnknownField) {
  expect_invalid(file_bytes(R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4],
                                      "extra": 1}})",
                            "abcd"),
                 "unknown field 'extra'");
}

// Crash safety: a process saving over the same file again and again is killed with SIGKILL at
// random moments; after each kill the file loads and holds one of the two versions whole.
TEST(SafetensorsAtomicWrite, SurvivesSigkillDuringSaves) {
  const std::string path = temp_path("killed.safetensors");
  const index_t n = 1 << 18;  // 1 MB of floats, so that a write takes a while
  const Tensor<float> old_version = Tensor<float>::full({n}, 1.0f);
  const Tensor<float> new_version = Tensor<float>::full({n}, 2.0f);
  auto write = [&](const Tensor<float>& t) {
    SafetensorsWriter w;
    w.add("w", t);
    w.write(path);
  };
  write(old_version);
  std::uint64_t state = 12345;
  int old_seen = 0, new_seen = 0;
  for (int round = 0; round < 100; ++round) {
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      // The child saves alternately until it is killed (never returns into the test).
      for (int i = 0;; ++i) write(i % 2 ? old_version : new_version);
    }
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    std::this_thread::sleep_for(std::chrono::microseconds(200 + (state >> 33) % 20000));
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status));
    const SafetensorsFile f = SafetensorsFile::read(path);
    const Tensor<float> w = f.tensor<float>("w");
    ASSERT_EQ(w.size(), n);
    const float first = w.data()[0];
    ASSERT_TRUE(first == 1.0f || first == 2.0f) << "round " << round;
    for (index_t i = 0; i < n; ++i) ASSERT_EQ(w.data()[i], first) << "round " << round;
    (first == 1.0f ? old_seen : new_seen)++;
    // A killed writer may leave its temporary file beside the target (never the target torn).
    for (const auto& entry : std::filesystem::directory_iterator(::testing::TempDir()))
      if (entry.path().string().rfind(path + ".tmp-", 0) == 0) std::filesystem::remove(entry);
  }
  EXPECT_EQ(old_seen + new_seen, 100);
}

}  // namespace
