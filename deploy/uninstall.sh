#!/usr/bin/env bash
# Removes what install.sh created (namespace, cluster role and binding, persistent volumes). The data folders on
# the nodes stay: delete them by hand if you want the data gone.
#
# usage: deploy/uninstall.sh [--config FILE]
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
config=$here/config.ini
[[ ${1:-} == --config ]] && config=${2:?--config needs a file}
value() { awk -F= -v k="$1" '$1 ~ "^[[:space:]]*" k "[[:space:]]*$" { sub(/^[^=]*=[[:space:]]*/, ""); print; exit }' "$config"; }
namespace=$(value NAMESPACE)
[[ -n $namespace ]] || { echo "uninstall.sh: $config has no NAMESPACE" >&2; exit 1; }
kubectl delete namespace "$namespace" --ignore-not-found --wait=true
kubectl delete clusterrolebinding kubebpf-agent --ignore-not-found
kubectl delete clusterrole kubebpf-agent --ignore-not-found
kubectl delete persistentvolume "$namespace-influxdb" "$namespace-grafana" --ignore-not-found
cat <<EOF
kubebpf is removed. These host folders remain, with their data:
  $(value INFLUXDB_HOST):$(value INFLUXDB_PV_PATH)   (InfluxDB)
  $(value GRAFANA_HOST):$(value GRAFANA_PV_PATH)   (Grafana)
and the generated credentials: $(dirname "$config")/.kubebpf-credentials.env
EOF
