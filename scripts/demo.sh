#!/usr/bin/env bash
# Builds and runs lamina's demo, the tutorial CNN (examples/cnn.cpp) on Fashion-MNIST: the full
# data set when Debian's dataset-fashion-mnist is installed (as root this script installs it),
# otherwise the slice bundled in data/; the example says which. Arguments go to the example:
#   scripts/demo.sh [--epochs 5] [--batch-size 32] [--data DIR] [--out DIR] [--help]
set -euo pipefail
# shellcheck source=scripts/setup.sh
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"

# The full data set is worth installing, but not required: without it the bundled slice is used.
if [[ "$(id -u)" == 0 ]] || lamina_package_installed dataset-fashion-mnist; then
  LAMINA_PACKAGES+=(dataset-fashion-mnist)
else
  echo "demo: Debian's dataset-fashion-mnist is not installed; the demo uses the bundled slice" \
    "(for the full data set: sudo apt-get install dataset-fashion-mnist)" >&2
fi
lamina_setup

lamina_lock_build_dir build/release
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release
cmake --build build/release -j2 --target cnn
flock -u 9  # the build is done; let other scripts build while the demo runs
exec build/release/examples/cnn "$@"
