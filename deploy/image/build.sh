#!/usr/bin/env bash
# Builds the agent image with podman from the repository's sources (deploy/Dockerfile), on the local .NET bases of
# bases.sh when no registry is reachable. Layers and NuGet packages are cached by podman, so a rebuild after a change
# of sources recompiles but downloads nothing. Prints the image's name and size on its last line.
# Usage: deploy/image/build.sh [image name, default localhost/kubebpf/agent:dev]
set -euo pipefail
cd "$(dirname "$0")/../.."

image=${1:-localhost/kubebpf/agent:dev}
bases=$(deploy/image/bases.sh)
sdk_image=$(sed -n 's/^SDK_IMAGE=//p' <<<"$bases")
runtime_image=$(sed -n 's/^RUNTIME_IMAGE=//p' <<<"$bases")
# Host network: the build stage reaches the apt mirror and NuGet as this machine does (no podman network set-up needed).
podman build --network host --build-arg "SDK_IMAGE=$sdk_image" --build-arg "RUNTIME_IMAGE=$runtime_image" \
  -f deploy/Dockerfile -t "$image" .
echo "$image $(podman image inspect --format '{{.Size}}' "$image") bytes"
