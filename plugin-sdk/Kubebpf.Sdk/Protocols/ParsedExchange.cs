using Kubebpf.Sdk.Events;
using Kubebpf.Sdk.Net;

namespace Kubebpf.Sdk.Protocols;

/// <summary>
/// What a parser knows of one exchange; the capture adds the endpoints, the direction, the interface and the
/// workloads, and converts the times, to publish an <see cref="Exchange"/>.
/// </summary>
public readonly record struct ParsedExchange
{
    /// <inheritdoc cref="Exchange.Operation"/>
    public required string Operation { get; init; }

    /// <inheritdoc cref="Exchange.Resource"/>
    public required string Resource { get; init; }

    /// <inheritdoc cref="Exchange.Code"/>
    public required int Code { get; init; }

    /// <inheritdoc cref="Exchange.Status"/>
    public required string Status { get; init; }

    /// <inheritdoc cref="Exchange.Outcome"/>
    public required ExchangeOutcome Outcome { get; init; }

    /// <summary>When the first byte of the request was seen, CLOCK_MONOTONIC nanoseconds (the capture's timestamps).</summary>
    public required long StartNs { get; init; }

    /// <inheritdoc cref="Exchange.DurationNs"/>
    public required long DurationNs { get; init; }

    /// <inheritdoc cref="Exchange.RequestBytes"/>
    public required long RequestBytes { get; init; }

    /// <inheritdoc cref="Exchange.ResponseBytes"/>
    public required long ResponseBytes { get; init; }

    /// <inheritdoc cref="Exchange.Details"/>
    public IExchangeDetails? Details { get; init; }
}

/// <summary>Where a parser hands its exchanges: one per connection or datagram flow, given by the capture.</summary>
public interface IExchangeOutput
{
    /// <summary>
    /// Emits one exchange. Call it on the capture thread, from within a parser callback only; exchanges are published
    /// once per drained batch.
    /// </summary>
    void Emit(in ParsedExchange exchange);

    /// <summary>
    /// The flow this output belongs to, for parsers that keep state across the flows of one client (DNS pairs a
    /// search-path candidate with the next one, sent from a new socket); null when the output serves no single flow.
    /// </summary>
    FlowIdentity? Flow => null;
}

/// <summary>Which flow a parser serves, as the capture classified it.</summary>
/// <param name="Client">The client's endpoint.</param>
/// <param name="Server">The server's endpoint.</param>
/// <param name="Interface">The interface the flow is seen on (a pod's host-side veth, say).</param>
/// <param name="Direction">Out when the observed workload (behind <paramref name="Interface"/>) is the client, In when it serves.</param>
public readonly record struct FlowIdentity(NetworkEndpoint Client, NetworkEndpoint Server, string Interface, TrafficDirection Direction);
