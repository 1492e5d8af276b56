#!/usr/bin/env bash
# Installs what building and testing need, and nothing when it is all there:
# the Debian packages below (apt), and the repo's npm dev tools (buf) pinned by
# package-lock.json. Safe to run any number of times.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

debian_packages=(
  cmake ninja-build g++ pkg-config
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libabsl-dev libsqlite3-dev libgtest-dev libgmock-dev libbenchmark-dev
  grpc-proto golang-github-gogo-googleapis-dev
  libcurl4-openssl-dev libssl-dev libcpp-httplib-dev libevent-dev libspdlog-dev
  libcli11-dev libyaml-cpp-dev librapidcheck-dev libjemalloc-dev sqlite3 jq curl ccache
  postgresql-15 libpq-dev python3-prometheus-client python3-yaml zsh
  python3-grpcio python3-grpc-tools
)
# node and npm may come from elsewhere than Debian; only ask apt for them when
# there is no node at all, since mixing the two breaks both.
if ! command -v node >/dev/null 2>&1; then
  debian_packages+=(nodejs npm)
fi

missing=()
for package in "${debian_packages[@]}"; do
  status="$(dpkg-query -W -f='${db:Status-Abbrev}' "${package}" 2>/dev/null || true)"
  if [[ "${status}" != ii* ]]; then
    missing+=("${package}")
  fi
done

if ((${#missing[@]} > 0)); then
  echo "setup: installing missing Debian packages: ${missing[*]}"
  sudo=()
  if [[ "$(id -u)" -ne 0 ]]; then
    if command -v sudo >/dev/null 2>&1; then
      sudo=(sudo)
    else
      echo "setup: not root and no sudo; install these as root: ${missing[*]}" >&2
      exit 1
    fi
  fi
  "${sudo[@]}" apt-get update
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y --no-install-recommends "${missing[@]}"
fi

# node_modules/ is current when the stamp records the same package.json and
# package-lock.json that are checked in; otherwise reinstall exactly the lock.
stamp=node_modules/.ats-setup-stamp
wanted="$(cat package.json package-lock.json | sha256sum | cut -d' ' -f1)"
if [[ ! -x node_modules/.bin/buf || ! -f "${stamp}" || "$(cat "${stamp}")" != "${wanted}" ]]; then
  echo "setup: installing npm dev tools (npm ci)"
  npm ci --no-audit --no-fund
  echo "${wanted}" >"${stamp}"
fi
