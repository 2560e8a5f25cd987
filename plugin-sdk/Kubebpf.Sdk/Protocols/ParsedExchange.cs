using Kubebpf.Sdk.Events;

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
}
