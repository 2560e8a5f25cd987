#!/usr/bin/env bash
# Removes what install.sh created (namespace, cluster role and binding, persistent volumes). The data folders on
# the nodes stay: delete them by hand if you want the data gone.
#
# usage: deploy/uninstall.sh [--config FILE]
set -euo pipefail
shopt -s inherit_errexit # a failure inside $(...) stops the script too
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
config=$here/config.ini
while (($#)); do
  case $1 in
    --config) config=${2:?--config needs a file}; shift ;;
    -h | --help) sed -n '2,5s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "uninstall.sh: unknown argument: $1" >&2; exit 2 ;;
  esac
  shift
done

die() { echo "uninstall.sh: $*" >&2; exit 1; }
# shellcheck source=lib/config.sh
source "$here/lib/config.sh"
config_load "$config"
namespace=$(config_namespace)
backend=$(config_get backend BACKEND influxdb)

command -v kubectl >/dev/null || die "kubectl is missing (install it and point it at the cluster)"
kubectl delete namespace "$namespace" --ignore-not-found --wait=true
kubectl delete clusterrolebinding kubebpf-agent --ignore-not-found
kubectl delete clusterrole kubebpf-agent --ignore-not-found
kubectl delete persistentvolume "$namespace-influxdb" "$namespace-grafana" --ignore-not-found

echo "kubebpf is removed from namespace $namespace."
if [[ $backend != otlp ]]; then
  echo "These host folders remain, with their data:"
  [[ $backend == influxdb ]] && echo "  $(config_get influxdb INFLUXDB_HOST '?'):$(config_get influxdb INFLUXDB_PV_PATH '?')   (InfluxDB)"
  echo "  $(config_get grafana GRAFANA_HOST '?'):$(config_get grafana GRAFANA_PV_PATH '?')   (Grafana)"
  echo "and the generated credentials: $(dirname "$config")/.kubebpf-credentials.env"
fi
