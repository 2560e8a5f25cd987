namespace Kubebpf.StaticMetadata.Tests;

internal static class Samples
{
    public const string Yaml = """
        # two pods and a host-network exporter sharing the node's address
        workloads:
          - namespace: shop
            pod: api-7d9f6c5b8-x2k4p
            workload: { kind: Deployment, name: api }
            service: api
            node: node-1
            labels:
              app: api
              tier: backend
            interfaces: [vethkb-api]
            ips: [10.213.0.12, "fd00:10:213::12"]
          - namespace: shop
            pod: web-0
            workload:
              kind: StatefulSet
              name: web
            interfaces: vethkb-web
            ips:
              - 10.213.0.11
          - namespace: monitoring
            pod: node-exporter-abcde
            workload: { kind: DaemonSet, name: node-exporter }
            ips: [192.168.1.5]
            ports: [9100]
          - namespace: kube-system
            pod: node-1
            workload: { kind: Host, name: node-1 }
            ips: [192.168.1.5]
          - namespace: external
            pod: office
            ips: [172.16.0.0/16, "2001:db8::/32"]
          - namespace: external
            pod: office-printer
            ips: [172.16.4.0/24]
        """;

    public const string Json = """
        {
          // same as the YAML sample's first entries
          "workloads": [
            {
              "namespace": "shop",
              "pod": "api-7d9f6c5b8-x2k4p",
              "workload": { "kind": "Deployment", "name": "api" },
              "service": "api",
              "node": "node-1",
              "labels": { "app": "api", "tier": "backend" },
              "interfaces": ["vethkb-api"],
              "ips": ["10.213.0.12", "fd00:10:213::12"]
            },
            {
              "namespace": "monitoring",
              "pod": "node-exporter-abcde",
              "workload": { "kind": "DaemonSet", "name": "node-exporter" },
              "ips": ["192.168.1.5"],
              "ports": [9100]
            },
          ]
        }
        """;
}
