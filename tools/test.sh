#!/usr/bin/env bash
# Builds, then runs every test through CTest.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

tools/build.sh
exec ctest --test-dir build --output-on-failure -j2 --timeout 600
