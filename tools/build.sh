#!/usr/bin/env bash
# Installs what is missing, then configures (Ninja, Release) into build/ and
# builds everything with all cores.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

tools/setup.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build build --parallel "$(nproc)"
