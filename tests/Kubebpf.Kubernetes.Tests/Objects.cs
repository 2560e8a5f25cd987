using System.Text.Json.Nodes;

namespace Kubebpf.Kubernetes.Tests;

/// <summary>API objects shaped as a real API server returns them (the fields the plugin reads, and typical others).</summary>
internal static class Objects
{
    public static JsonObject Pod(
        string @namespace, string name, string uid, string node, string? ip, (string Kind, string Name)? owner = null,
        Dictionary<string, string>? labels = null, bool hostNetwork = false, string hostIp = "192.168.50.10", int[]? ports = null,
        string phase = "Running", string? ipv6 = null)
    {
        var podIps = new JsonArray();
        foreach (var address in new[] { ip, ipv6 }.OfType<string>())
        {
            podIps.Add(new JsonObject { ["ip"] = address });
        }

        return new JsonObject
        {
            ["metadata"] = new JsonObject
            {
                ["name"] = name,
                ["namespace"] = @namespace,
                ["uid"] = uid,
                ["creationTimestamp"] = "2024-05-01T10:00:00Z",
                ["labels"] = Labels(labels ?? new() { ["app"] = name }),
                ["ownerReferences"] = owner is { } o
                    ? new JsonArray(new JsonObject
                    {
                        ["apiVersion"] = o.Kind is "ReplicaSet" or "StatefulSet" or "DaemonSet" ? "apps/v1" : "batch/v1",
                        ["kind"] = o.Kind,
                        ["name"] = o.Name,
                        ["uid"] = Guid.NewGuid().ToString(),
                        ["controller"] = true,
                        ["blockOwnerDeletion"] = true,
                    })
                    : null,
            },
            ["spec"] = new JsonObject
            {
                ["nodeName"] = node,
                ["hostNetwork"] = hostNetwork ? true : null,
                ["restartPolicy"] = "Always",
                ["containers"] = new JsonArray(new JsonObject
                {
                    ["name"] = "main",
                    ["image"] = "nginx:1.27",
                    ["ports"] = new JsonArray([.. (ports ?? [80]).Select(p => (JsonNode)new JsonObject { ["containerPort"] = p, ["protocol"] = "TCP" })]),
                    ["resources"] = new JsonObject(),
                }),
            },
            ["status"] = new JsonObject
            {
                ["phase"] = phase,
                ["hostIP"] = hostIp,
                ["hostIPs"] = new JsonArray(new JsonObject { ["ip"] = hostIp }),
                ["podIP"] = ip,
                ["podIPs"] = podIps,
                ["startTime"] = "2024-05-01T10:00:01Z",
            },
        };
    }

    public static JsonObject Service(string @namespace, string name, string? clusterIp, Dictionary<string, string>? selector = null) => new()
    {
        ["metadata"] = new JsonObject { ["name"] = name, ["namespace"] = @namespace, ["uid"] = Guid.NewGuid().ToString() },
        ["spec"] = new JsonObject
        {
            ["type"] = "ClusterIP",
            ["clusterIP"] = clusterIp ?? "None",
            ["clusterIPs"] = new JsonArray(clusterIp ?? "None"),
            ["selector"] = Labels(selector ?? new() { ["app"] = name }),
            ["ports"] = new JsonArray(new JsonObject { ["name"] = "http", ["port"] = 80, ["protocol"] = "TCP", ["targetPort"] = 80 }),
        },
        ["status"] = new JsonObject { ["loadBalancer"] = new JsonObject() },
    };

    /// <summary>An EndpointSlice of <paramref name="service"/>: each endpoint is (IP, pod name or null, node).</summary>
    public static JsonObject EndpointSlice(string @namespace, string service, params (string Ip, string? Pod, string Node)[] endpoints) => new()
    {
        ["addressType"] = "IPv4",
        ["metadata"] = new JsonObject
        {
            ["name"] = $"{service}-abc12",
            ["namespace"] = @namespace,
            ["uid"] = Guid.NewGuid().ToString(),
            ["labels"] = Labels(new() { ["kubernetes.io/service-name"] = service, ["endpointslice.kubernetes.io/managed-by"] = "endpointslice-controller.k8s.io" }),
            ["ownerReferences"] = new JsonArray(new JsonObject
            {
                ["apiVersion"] = "v1", ["kind"] = "Service", ["name"] = service, ["uid"] = Guid.NewGuid().ToString(), ["controller"] = true,
            }),
        },
        ["endpoints"] = new JsonArray([.. endpoints.Select(e => (JsonNode)new JsonObject
        {
            ["addresses"] = new JsonArray(e.Ip),
            ["conditions"] = new JsonObject { ["ready"] = true, ["serving"] = true, ["terminating"] = false },
            ["nodeName"] = e.Node,
            ["targetRef"] = e.Pod is null ? null : new JsonObject { ["kind"] = "Pod", ["name"] = e.Pod, ["namespace"] = @namespace, ["uid"] = Guid.NewGuid().ToString() },
        })]),
        ["ports"] = new JsonArray(new JsonObject { ["name"] = "http", ["port"] = 80, ["protocol"] = "TCP" }),
    };

    public static JsonObject ReplicaSet(string @namespace, string name, string? deployment) =>
        Owned(@namespace, name, deployment is null ? null : ("apps/v1", "Deployment", deployment));

    public static JsonObject Job(string @namespace, string name, string? cronJob) =>
        Owned(@namespace, name, cronJob is null ? null : ("batch/v1", "CronJob", cronJob));

    private static JsonObject Owned(string @namespace, string name, (string ApiVersion, string Kind, string Name)? owner) => new()
    {
        ["metadata"] = new JsonObject
        {
            ["name"] = name,
            ["namespace"] = @namespace,
            ["uid"] = Guid.NewGuid().ToString(),
            ["ownerReferences"] = owner is { } o
                ? new JsonArray(new JsonObject { ["apiVersion"] = o.ApiVersion, ["kind"] = o.Kind, ["name"] = o.Name, ["uid"] = Guid.NewGuid().ToString(), ["controller"] = true })
                : null,
        },
        ["spec"] = new JsonObject { ["replicas"] = 1 },
        ["status"] = new JsonObject(),
    };

    private static JsonObject Labels(Dictionary<string, string> labels) => new([.. labels.Select(l => KeyValuePair.Create(l.Key, (JsonNode?)l.Value))]);
}
