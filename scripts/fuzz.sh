#!/usr/bin/env bash
# Builds the fuzz targets (tests/fuzz/<name>_fuzz.cpp) with Clang's libFuzzer, ASan and UBSan in
# build/fuzz and runs each for a while, printing executions and coverage.
#   scripts/fuzz.sh [--time SECONDS] [NAME...]   default: 60 seconds, every target
# Each target starts from its seed corpus tests/fuzz/corpus/<name>/ (new inputs go to
# build/fuzz/corpus/<name>/, the checked-in corpus is left alone). A crashing input is written
# to build/fuzz/crashes/<name>/; fix the bug and copy the input to tests/fuzz/regressions/<name>/,
# which CTest replays in every build.
set -euo pipefail
# shellcheck source=scripts/setup.sh
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
# Only this script needs Clang and libFuzzer.
LAMINA_PACKAGES+=(clang libfuzzer-14-dev libclang-rt-14-dev)

seconds=60
targets=()
while (($# > 0)); do
  case "$1" in
    --time)
      (($# >= 2)) || { echo "fuzz.sh: --time needs a value" >&2; exit 2; }
      seconds="$2"
      shift 2
      ;;
    --time=*)
      seconds="${1#--time=}"
      shift
      ;;
    -h | --help)
      sed -n '2,8s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
      exit 0
      ;;
    -*)
      echo "fuzz.sh: unknown option '$1'" >&2
      exit 2
      ;;
    *)
      targets+=("$1")
      shift
      ;;
  esac
done
[[ "${seconds}" =~ ^[0-9]+$ ]] || { echo "fuzz.sh: --time: expected seconds, got '${seconds}'" >&2; exit 2; }

lamina_setup
if ((${#targets[@]} == 0)); then
  for source in tests/fuzz/*_fuzz.cpp; do
    name="$(basename "${source}" _fuzz.cpp)"
    targets+=("${name}")
  done
fi
for name in "${targets[@]}"; do
  [[ -f "tests/fuzz/${name}_fuzz.cpp" ]] || {
    echo "fuzz.sh: no target '${name}' (expected tests/fuzz/${name}_fuzz.cpp)" >&2
    exit 2
  }
done

clang="$(command -v clang++ || command -v clang++-14)"
build_dir=build/fuzz
lamina_lock_build_dir "${build_dir}"
# No OpenMP (Clang's runtime is another package) and no -Werror (Clang's warnings are not the
# ones the GCC build is held to); only the fuzz targets are built.
cmake -S . -B "${build_dir}" -DCMAKE_CXX_COMPILER="${clang}" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DLAMINA_FUZZ=ON -DLAMINA_OPENMP=OFF -DLAMINA_BUILD_EXAMPLES=OFF -DLAMINA_BUILD_BENCHMARKS=OFF \
  -DLAMINA_HEADER_CHECK=OFF -DLAMINA_TEST_PCH=OFF >/dev/null
build_targets=()
for name in "${targets[@]}"; do build_targets+=("lamina_${name}_fuzz"); done
cmake --build "${build_dir}" -j2 --target "${build_targets[@]}"

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
status=0
for name in "${targets[@]}"; do
  corpus="${build_dir}/corpus/${name}"
  crashes="${build_dir}/crashes/${name}"
  mkdir -p "${corpus}" "${crashes}"
  echo "fuzz.sh: ${name} for ${seconds} s (corpus ${corpus}, seeds tests/fuzz/corpus/${name})"
  log="${build_dir}/${name}.log"
  # -rss_limit_mb: an input that makes the reader allocate more than this is a finding too.
  if ! "${build_dir}/tests/lamina_${name}_fuzz" -max_total_time="${seconds}" -timeout=10 \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="${crashes}/" \
    "${corpus}" "tests/fuzz/corpus/${name}" >"${log}" 2>&1; then
    status=1
    echo "fuzz.sh: ${name}: FAILED; inputs in ${crashes}, log ${log}:" >&2
    tail -n 40 "${log}" >&2
  fi
  # The last status line ("#N DONE cov: ... ft: ... corp: ... exec/s: ...") and the final stats.
  grep -E '^#[0-9]+[[:space:]]+DONE' "${log}" | tail -n 1 || true
  grep -E '^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)' "${log}" || true
done
exit "${status}"
