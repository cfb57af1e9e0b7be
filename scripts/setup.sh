# shellcheck shell=bash
# Shared setup for lamina's scripts; sourced, not run:
#   source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
#   LAMINA_PACKAGES+=(more-packages)   # optional: what this script needs beyond the build
#   lamina_setup
# Afterwards the working directory is the repository root.

# Debian packages needed to build and test lamina; a script may append what else it needs.
LAMINA_PACKAGES=(
  cmake
  g++
  pkg-config
  libeigen3-dev
  nlohmann-json3-dev
  zlib1g-dev
  libgtest-dev
  libbenchmark-dev
  libstb-dev
  libtinyxml2-dev
  fortunes  # the text example's English text (/usr/share/games/fortunes)
)

# Optional Debian packages: installed when possible, never required. With Open MPI, CMake creates
# lamina::mpi and the distributed tests (mpirun -np 2 and 3, a few seconds); without it, neither.
LAMINA_OPTIONAL_PACKAGES=(
  openmpi-bin
  libopenmpi-dev
)

# OpenMP threads that wait for work sleep instead of spinning: on a machine busier than its
# core count (ctest -j2 with two OpenMP threads per test, or a shared box), spinning threads
# steal the cores that the working ones need and make two threads 10x slower than one.
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-passive}"

lamina_repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# True when Debian package $1 is installed (not merely known to dpkg, e.g. removed).
lamina_package_installed() {
  local status
  status="$(dpkg -s "$1" 2>/dev/null)" || return 1
  grep -qE '^Status: [a-z]+ ok installed$' <<<"${status}"
}

# Installs whichever of LAMINA_PACKAGES are missing (as root), or says how to and exits 1.
lamina_setup() {
  cd "${lamina_repo_root}" || exit 1
  local wanted=("${LAMINA_PACKAGES[@]}")
  if ! command -v dpkg >/dev/null 2>&1; then
    echo "setup: no dpkg here (not Debian?); make sure these are installed: ${wanted[*]}" >&2
    return 0
  fi
  local missing=() optional=() package
  for package in "${wanted[@]}"; do
    lamina_package_installed "${package}" || missing+=("${package}")
  done
  for package in "${LAMINA_OPTIONAL_PACKAGES[@]}"; do
    lamina_package_installed "${package}" || optional+=("${package}")
  done
  if ((${#missing[@]} == 0)); then
    lamina_setup_optional "${optional[@]}"
    return 0
  fi
  local install=(apt-get install -y --no-install-recommends "${missing[@]}")
  if [[ "$(id -u)" != 0 ]]; then
    echo "setup: missing Debian packages: ${missing[*]}" >&2
    echo "setup: install them with:" >&2
    echo "  sudo apt-get update && sudo ${install[*]}" >&2
    exit 1
  fi
  echo "setup: installing missing Debian packages: ${missing[*]}"
  apt-get update
  DEBIAN_FRONTEND=noninteractive "${install[@]}"
  lamina_setup_optional "${optional[@]}"
}

# Tries to install the optional packages given (as root); says what is skipped otherwise. Never
# fails: lamina builds and tests without them.
lamina_setup_optional() {
  (($# > 0)) || return 0
  if [[ "$(id -u)" != 0 ]]; then
    echo "setup: optional packages not installed (distributed tests skipped): $*" >&2
    return 0
  fi
  echo "setup: installing optional Debian packages: $*"
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@"; then
    apt-get update || true
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" ||
      echo "setup: could not install optional packages (distributed tests skipped): $*" >&2
  fi
  return 0
}

# Holds an exclusive lock on build directory $1 until the calling script exits (fd 9), so two
# scripts sharing a work tree never build into one directory at once (a rewritten precompiled
# header kills the other build's compilers). Waits, saying so, while another script holds it.
lamina_lock_build_dir() {
  mkdir -p "$1"
  exec 9>"$1/.lamina.lock"
  if ! flock -n 9; then
    echo "setup: another script is building in $1; waiting for it to finish..." >&2
    flock 9
  fi
}
