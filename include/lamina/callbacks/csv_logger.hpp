#pragma once

#include <filesystem>
#include <fstream>
#include <iomanip>
#include <string>
#include <utility>
#include <vector>

#include "lamina/callbacks/callback.hpp"

namespace lamina {

/// Keras's CSVLogger: one row per epoch, "epoch" (0-based, as Keras writes it) then every log in
/// sorted order, to `filename`; with append, continues an existing file (its header is written
/// only when the file is new or empty). Each row is flushed as it is written.
template <class T = float>
class CSVLogger : public Callback<T> {
 public:
  explicit CSVLogger(std::string filename, std::string separator = ",", bool append = false)
      : filename_(std::move(filename)), separator_(std::move(separator)), append_(append) {
    check<ValueError>(!filename_.empty(), "CSVLogger: filename is empty");
  }
  bool writes_files() const override { return true; }
  void on_train_begin(Logs&) override {
    std::error_code ec;
    const bool has_rows = append_ && std::filesystem::file_size(filename_, ec) > 0 && !ec;
    file_.open(filename_, append_ ? std::ios::app : std::ios::trunc);
    check<IoError>(file_.is_open(), filename_, ": CSVLogger cannot open the file for writing");
    keys_.clear();
    header_written_ = has_rows;
  }
  void on_epoch_end(int epoch, Logs& logs) override {
    if (keys_.empty())
      for (const auto& [key, value] : logs) keys_.push_back(key);  // Logs is sorted by key
    if (!header_written_) {
      file_ << "epoch";
      for (const std::string& k : keys_) file_ << separator_ << k;
      file_ << '\n';
      header_written_ = true;
    }
    file_ << epoch;
    for (const std::string& k : keys_) {
      file_ << separator_;
      const auto it = logs.find(k);
      if (it != logs.end()) file_ << std::setprecision(10) << it->second;
    }
    file_ << '\n' << std::flush;
    check<IoError>(file_.good(), filename_, ": CSVLogger could not write epoch ", epoch);
  }
  void on_train_end(Logs&) override { file_.close(); }

 private:
  std::string filename_, separator_;
  bool append_;
  std::ofstream file_;
  std::vector<std::string> keys_;
  bool header_written_ = false;
};

CSVLogger(std::string)->CSVLogger<float>;
CSVLogger(std::string, std::string)->CSVLogger<float>;
CSVLogger(std::string, std::string, bool)->CSVLogger<float>;

}  // namespace lamina
