#pragma once

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>

#include <fcntl.h>
#include <unistd.h>

#include "lamina/core/error.hpp"

namespace lamina {

namespace detail {

/// "path: what (strerror)" for the current errno.
inline std::string errno_message(const std::string& path, const char* what) {
  return path + ": " + what + " (" + std::strerror(errno) + ")";
}

/// Writes all of `bytes` to `fd`, retrying short writes and EINTR.
inline bool write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

}  // namespace detail

/// Replaces the file at `path` with `parts` (written one after the other) so that, whatever
/// happens meanwhile (an exception, a full disk, a crash, `kill -9`, a power cut), the file
/// holds either its old contents or all of the new ones, never a mix: the bytes go to a
/// temporary file in the same directory, which is flushed to disk (fsync) and then renamed over
/// `path` (rename is atomic within a file system); the directory is synced last so that the
/// rename itself survives a power cut. Throws IoError naming the path on any failure, and then
/// leaves no temporary file behind.
template <class Parts>
void write_file_atomically(const std::string& path, const Parts& parts) {
  check<IoError>(!path.empty(), "write: the file name is empty");
  namespace fs = std::filesystem;
  const fs::path target(path);
  std::error_code ec;
  check<IoError>(!fs::is_directory(target, ec), path, ": cannot write the file, it is a directory");
  const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  check<IoError>(fs::is_directory(dir, ec), path, ": cannot write the file, its directory ",
                 dir.string(), " does not exist");

  static std::atomic<unsigned> counter{0};
  const std::string tmp =
      path + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(counter.fetch_add(1));
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (fd < 0)
    throw IoError(detail::errno_message(path, "cannot create a temporary file beside it"));
  bool ok = true;
  for (const auto& part : parts) {
    if (!detail::write_all(fd, std::string_view(part.data(), part.size()))) {
      ok = false;
      break;
    }
  }
  std::string failure;
  if (!ok)
    failure = detail::errno_message(path, "write failed");
  else if (::fsync(fd) != 0)
    failure = detail::errno_message(path, "flushing to disk (fsync) failed");
  if (::close(fd) != 0 && failure.empty()) failure = detail::errno_message(path, "close failed");
  if (failure.empty() && std::rename(tmp.c_str(), path.c_str()) != 0)
    failure = detail::errno_message(path, "cannot rename the temporary file over it");
  if (!failure.empty()) {
    ::unlink(tmp.c_str());
    throw IoError(failure);
  }
  // Make the rename durable; a directory that cannot be opened for syncing is no error.
  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
}

}  // namespace lamina
