using Kubebpf.Sdk.Metadata;
using Kubebpf.Sdk.Net;

namespace Kubebpf.Sdk.Events;

/// <summary>Which side of a call the observed workload is on.</summary>
public enum TrafficDirection
{
    /// <summary>The observed workload served the request.</summary>
    In,
    /// <summary>The observed workload made the request.</summary>
    Out,
}

/// <summary>
/// One HTTP request paired with its response, as seen from one observed workload. Published by HTTP probes as
/// <see cref="Pipeline.IEventPublisher{T}"/> batches; consumed by the R.E.D. aggregator, the call log and anyone else.
/// Strings are shared where possible (methods, versions are interned); the struct is only valid as a value copy.
/// </summary>
public readonly record struct HttpExchange
{
    /// <summary>When the first byte of the request was seen, nanoseconds since the Unix epoch.</summary>
    public required long StartUnixNs { get; init; }

    /// <summary>From the first byte of the request to the first byte of the response, in nanoseconds.</summary>
    public required long DurationNs { get; init; }

    /// <summary>In: the observed workload served it; out: it called someone.</summary>
    public required TrafficDirection Direction { get; init; }

    /// <summary>The request method as sent (any token: GET, OPTIONS, CONNECT, PURGE, ...).</summary>
    public required string Method { get; init; }

    /// <summary>The request target without the query string.</summary>
    public required string Path { get; init; }

    /// <summary>The query string without the <c>?</c>, or null when there was none or the probe does not record it.</summary>
    public string? Query { get; init; }

    /// <summary>The response status code.</summary>
    public required int Status { get; init; }

    /// <summary><c>HTTP/1.1</c> or <c>HTTP/1.0</c>, the request's version.</summary>
    public required string Version { get; init; }

    /// <summary>The request's Host header, or null.</summary>
    public string? Host { get; init; }

    /// <summary>Request body length in bytes (Content-Length or chunked total when known, else -1).</summary>
    public long RequestBodyBytes { get; init; }

    /// <summary>Response body length in bytes (Content-Length or chunked total when known, else -1).</summary>
    public long ResponseBodyBytes { get; init; }

    /// <summary>The client side of the connection.</summary>
    public required NetworkEndpoint Client { get; init; }

    /// <summary>The server side of the connection.</summary>
    public required NetworkEndpoint Server { get; init; }

    /// <summary>The interface the exchange was seen on.</summary>
    public required string Interface { get; init; }

    /// <summary>The observed workload (server for <see cref="TrafficDirection.In"/>, client for Out), or null when unknown.</summary>
    public WorkloadIdentity? Workload { get; init; }

    /// <summary>The other side of the call, or null when it does not resolve.</summary>
    public WorkloadIdentity? Peer { get; init; }

    /// <summary>The observed workload's own endpoint.</summary>
    public NetworkEndpoint Local => Direction == TrafficDirection.In ? Server : Client;

    /// <summary>The other side's endpoint.</summary>
    public NetworkEndpoint Remote => Direction == TrafficDirection.In ? Client : Server;
}
