#!/usr/bin/env bash
# Makes the two local base images deploy/Dockerfile builds on where no container registry is reachable:
#   <prefix>/dotnet-sdk:<version>      Debian 12 minbase + this machine's .NET SDK (the build stage)
#   <prefix>/dotnet-runtime:<version>  Debian 12 minbase + this machine's shared framework only (the runtime stage)
# both also tagged with the major.minor version (10.0), the names deploy/Dockerfile defaults to.
# Debian's root filesystem comes from debootstrap, with the mirror this machine's apt already uses (read from its
# apt sources at run time). An image that exists already is kept, so a second run costs nothing.
# Usage: deploy/image/bases.sh [prefix]   (prints SDK_IMAGE=... and RUNTIME_IMAGE=... on its last two lines)
set -euo pipefail

prefix=${1:-localhost/kubebpf}
suite=bookworm
dotnet_root=$(dirname "$(readlink -f "$(command -v dotnet)")")
runtime_version=$(dotnet --list-runtimes | awk '$1 == "Microsoft.NETCore.App" { v = $2 } END { print v }')
sdk_version=$(dotnet --version)
base_image="$prefix/debian:12-minbase"
sdk_image="$prefix/dotnet-sdk:$sdk_version"
runtime_image="$prefix/dotnet-runtime:$runtime_version"
# What the .NET runtime itself loads (ICU for globalization, OpenSSL for TLS) and the CA certificates for HTTPS.
dotnet_packages=ca-certificates,libicu72,libssl3

# The first Debian mirror in this machine's apt sources (deb822 .sources files, then one-line .list files).
apt_mirror() {
  local mirror
  mirror=$(awk '
      /^URIs:/ { uris = $2 }
      /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == "'$suite'") found = uris }
      /^$/ { uris = "" }
      found { print found; exit }' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
  if [[ -z $mirror ]]; then
    mirror=$(awk '$1 == "deb" && $0 ~ / '$suite' / { for (i = 2; i <= NF; i++) if ($i !~ /^\[/) { print $i; exit } }' \
      /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null || true)
  fi
  if [[ -z $mirror ]]; then
    echo "bases.sh: no Debian $suite mirror found in the apt sources of this machine" >&2
    exit 1
  fi
  echo "$mirror"
}

exists() { podman image exists "$1"; }

if ! exists "$base_image"; then
  rootfs=$(mktemp -d)
  trap 'rm -rf "$rootfs"' EXIT
  mirror=$(apt_mirror)
  echo "bases.sh: debootstrap $suite from $mirror" >&2
  debootstrap --variant=minbase --include="$dotnet_packages" "$suite" "$rootfs" "$mirror" >&2
  # Nothing of the build machine's apt state or caches goes into the image.
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
  tar -C "$rootfs" --numeric-owner -c . | podman import --change 'CMD ["/bin/bash"]' - "$base_image" >&2
  rm -rf "$rootfs"
  trap - EXIT
fi

# A .NET image: the base plus the given parts of this machine's .NET installation, at the path Microsoft's images use.
dotnet_image() {
  local image=$1; shift
  exists "$image" && return 0
  local container
  container=$(buildah from --pull-never "$base_image")
  for part in dotnet host "$@"; do
    buildah copy --quiet "$container" "$dotnet_root/$part" "/usr/share/dotnet/$part" >/dev/null
  done
  buildah run "$container" -- ln -s /usr/share/dotnet/dotnet /usr/bin/dotnet
  if [[ $image == "$sdk_image" ]] && compgen -G '/usr/local/share/ca-certificates/*.crt' >/dev/null; then
    # The build stage restores NuGet packages through this machine's network: trust the certificate authorities
    # this machine trusts locally (a TLS-inspecting proxy's, say). Only the build image gets them, never the agent's.
    buildah copy --quiet "$container" /usr/local/share/ca-certificates /usr/local/share/ca-certificates >/dev/null
    buildah run "$container" -- update-ca-certificates >/dev/null
  fi
  local squash=()
  if [[ $image == "$runtime_image" ]]; then
    # What an agent never reads: documentation, manual pages, translations; dpkg leaves them out of later installs
    # too. Squashed, so that the files removed from the base layer really leave the image.
    buildah run "$container" -- sh -c 'printf "path-exclude=/usr/share/%s/*\n" doc man locale info > /etc/dpkg/dpkg.cfg.d/kubebpf-slim \
      && rm -rf /usr/share/doc/* /usr/share/man/* /usr/share/locale/* /usr/share/info/*'
    squash=(--squash)
  fi
  buildah config --env DOTNET_ROOT=/usr/share/dotnet --env DOTNET_CLI_TELEMETRY_OPTOUT=1 --env DOTNET_NOLOGO=1 "$container"
  buildah commit --quiet "${squash[@]}" --rm "$container" "$image" >/dev/null
}

dotnet_image "$runtime_image" "shared/Microsoft.NETCore.App/$runtime_version"
dotnet_image "$sdk_image" shared sdk sdk-manifests packs templates
# The names deploy/Dockerfile defaults to: the images of this machine's .NET major.minor version.
podman tag "$runtime_image" "$prefix/dotnet-runtime:${runtime_version%.*}"
podman tag "$sdk_image" "$prefix/dotnet-sdk:${runtime_version%.*}"

echo "SDK_IMAGE=$sdk_image"
echo "RUNTIME_IMAGE=$runtime_image"
