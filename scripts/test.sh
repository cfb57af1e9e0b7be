#!/usr/bin/env bash
# Builds lamina's tests (and examples, benchmarks) and runs them with CTest.
#   scripts/test.sh              Release build in build/release, warnings are errors
#   scripts/test.sh --sanitize   RelWithDebInfo + ASan/UBSan build in build/sanitize (tests only)
set -euo pipefail
# shellcheck source=scripts/setup.sh
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"

mode=release
case "${1:-}" in
  "") ;;
  --sanitize) mode=sanitize ;;
  -h | --help)
    sed -n '2,4s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
    exit 0
    ;;
  *)
    echo "usage: scripts/test.sh [--sanitize]" >&2
    exit 2
    ;;
esac

report() {
  local status=$?
  local verdict=passed
  ((status == 0)) || verdict="FAILED (exit ${status})"
  printf 'test.sh (%s): %s in %dm%02ds\n' "${mode}" "${verdict}" $((SECONDS / 60)) $((SECONDS % 60))
}
trap report EXIT
# Killed from outside (a CI time limit): say so, rather than let the EXIT trap see status 0.
trap 'exit 143' TERM
trap 'exit 130' INT

lamina_setup

if [[ "${mode}" == release ]]; then
  build_dir=build/release
  cmake_args=(-DCMAKE_BUILD_TYPE=Release -DLAMINA_WERROR=ON)
else
  build_dir=build/sanitize
  # No -Werror here: GCC's warnings under -fsanitize are known to include false positives,
  # and the release build already fails on every real warning. The header check is compile-only,
  # so the release build covers it too. RelWithDebInfo without -DNDEBUG: asserts (lamina's and
  # Eigen's bounds checks) stay on in this build. -O1 -g1 (line tables: sanitizer reports still
  # name file and line) compile in about half the time and memory of -O2 -g, which CI's time
  # limit needs (measured on tests/layers/embedding_test.cpp: 241 s and 5.6 GB against 442 s
  # and 8.9 GB).
  cmake_args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1"
    -DLAMINA_SANITIZE=ON
    -DLAMINA_BUILD_EXAMPLES=OFF -DLAMINA_BUILD_BENCHMARKS=OFF -DLAMINA_HEADER_CHECK=OFF
    # Open MPI's own allocations are reported as leaks under ASan: the release build runs the
    # distributed tests.
    -DLAMINA_MPI=OFF)
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
fi

lamina_lock_build_dir "${build_dir}"
cmake -S . -B "${build_dir}" "${cmake_args[@]}"
cmake --build "${build_dir}" -j2
ctest --test-dir "${build_dir}" --output-on-failure -j2 --timeout 900 --no-tests=error
