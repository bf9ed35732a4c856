#!/usr/bin/env bash
# Installs the Debian packages Rapport builds and tests with, only those missing.
set -euo pipefail
packages=(
  cmake ninja-build g++ pkg-config
  libboost-dev libboost-system-dev rapidjson-dev libsqlite3-dev libpq-dev
  libpugixml-dev libre2-dev libdfp-dev libicu-dev libhowardhinnant-date-dev libroaring-dev
  libspdlog-dev libfmt-dev libcli11-dev libsodium-dev libcurl4-openssl-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libnlopt-dev libxgboost-dev
  postgresql curl python3 tzdata
)
# The web workspace is built with Node and npm (web/); Debian's unless a node is installed already.
command -v node >/dev/null || packages+=(nodejs npm)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing: ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
