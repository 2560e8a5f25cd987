#!/usr/bin/env bash
# Bootstraps everything on Debian 12: the packages the build, the tests and the demo need (once, idempotently),
# the .NET tools from .config/dotnet-tools.json, then build.cake with the given arguments (e.g. --target=Test).
set -euo pipefail
cd "$(dirname "$0")"

packages=(clang llvm libbpf-dev libbpf1 bpftool linux-libc-dev gcc make nginx-light influxdb influxdb-client wrk curl iproute2 python3 procps redis-server redis-tools dnsmasq-base bind9-dnsutils nftables mariadb-server mariadb-client python3-pymysql libdbd-mariadb-perl linux-perf shellcheck podman buildah runc debootstrap prometheus afl++ dnsperf python3-matplotlib)

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" || missing+=("$package")
done
if ((${#missing[@]})); then
  if [[ $EUID -ne 0 ]]; then
    echo "build.sh: missing Debian packages: ${missing[*]}; run as root (sudo ./build.sh ...) so it can install them." >&2
    exit 1
  fi
  echo "build.sh: installing ${missing[*]}"
  # Keep the packages' own services (nginx, influxdb) from starting: tests and the demo start their own instances.
  created_policy=0
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && created_policy=1
  fi
  trap '[[ $created_policy == 1 ]] && rm -f /usr/sbin/policy-rc.d' EXIT
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if ! command -v dotnet >/dev/null; then
  echo "build.sh: the .NET 10 SDK is not installed: install it (package dotnet-sdk-10.0), then run this again." >&2
  exit 1
fi

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
dotnet tool restore >/dev/null
exec dotnet cake build.cake "$@"
