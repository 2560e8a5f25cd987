using Kubebpf.Sdk.Events;
using Kubebpf.Sdk.Protocols;

namespace Kubebpf.Otlp.Metrics;

/// <summary>OpenTelemetry semantic-convention names of the attributes and instruments this sink writes.</summary>
internal static class SemanticNames
{
    public const string Namespace = "k8s.namespace.name";
    public const string Pod = "k8s.pod.name";
    public const string Node = "k8s.node.name";
    public const string NetworkTransport = "network.transport";
    public const string ServerAddress = "server.address";
    public const string ServerPort = "server.port";
    public const string ClientAddress = "client.address";
    public const string ClientPort = "client.port";
    public const string HttpMethod = "http.request.method";
    public const string HttpStatusCode = "http.response.status_code";
    public const string HttpRoute = "http.route";
    public const string UrlPath = "url.path";
    public const string ErrorType = "error.type";

    /// <summary>Not in the conventions: which workload kind a name belongs to when the kind has no <c>k8s.*.name</c> key.</summary>
    public const string WorkloadKind = "kubebpf.workload.kind";

    /// <summary>Not in the conventions: the workload's name when its kind has no <c>k8s.*.name</c> key.</summary>
    public const string WorkloadName = "kubebpf.workload.name";

    /// <summary><c>k8s.deployment.name</c> and its kin for a workload kind, or null when the conventions have no key for it.</summary>
    public static string? WorkloadNameKey(string kind) => kind switch
    {
        "Deployment" => "k8s.deployment.name",
        "StatefulSet" => "k8s.statefulset.name",
        "DaemonSet" => "k8s.daemonset.name",
        "ReplicaSet" => "k8s.replicaset.name",
        "Job" => "k8s.job.name",
        "CronJob" => "k8s.cronjob.name",
        _ => null,
    };

    /// <summary>The value of <see cref="NetworkTransport"/>.</summary>
    public static string TransportName(Transport transport) => transport == Transport.Udp ? "udp" : "tcp";

    /// <summary>
    /// The duration histogram of a protocol and side: <c>http.server.request.duration</c> / <c>http.client.request.duration</c>
    /// for HTTP (the conventions' names), <c>kubebpf.&lt;protocol&gt;.server.duration</c> / <c>.client.duration</c> otherwise.
    /// </summary>
    public static string DurationInstrument(ProtocolDescriptor protocol, TrafficDirection direction) => IsHttp(protocol)
        ? $"http.{Side(direction)}.request.duration"
        : $"kubebpf.{protocol.Name}.{Side(direction)}.duration";

    /// <summary>The request counter: <c>kubebpf.&lt;protocol&gt;.server.requests</c> / <c>.client.requests</c> (the conventions have none).</summary>
    public static string RequestsInstrument(ProtocolDescriptor protocol, TrafficDirection direction) =>
        $"kubebpf.{protocol.Name}.{Side(direction)}.requests";

    /// <summary>HTTP uses the conventions' attribute names; other protocols their descriptor's, under the protocol's name.</summary>
    public static bool IsHttp(ProtocolDescriptor protocol) => protocol.Name == "http";

    private static string Side(TrafficDirection direction) => direction == TrafficDirection.In ? "server" : "client";
}
