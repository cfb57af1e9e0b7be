#!/usr/bin/env bash
# Builds and runs lamina's demo, the autodiff_regression example; arguments go to the demo.
#   scripts/demo.sh [demo args...]
set -euo pipefail
# shellcheck source=scripts/setup.sh
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"

LAMINA_PACKAGES+=(dataset-fashion-mnist)
lamina_setup

cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release
cmake --build build/release -j2 --target autodiff_regression
exec build/release/examples/autodiff_regression "$@"
