using Kubebpf.Sdk.Metrics;

namespace Kubebpf.Sdk.Protocols;

/// <summary>
/// Protocol-specific details that ride alongside an <see cref="Events.Exchange"/> without widening every exchange
/// (HTTP's version, Host and query string, say). The call log writes them as fields; other consumers read them
/// through the protocol's own type. Immutable: one instance may be shared by many exchanges.
/// </summary>
public interface IExchangeDetails
{
    /// <summary>How many fields <see cref="WriteFields"/> writes.</summary>
    int FieldCount { get; }

    /// <summary>Writes the fields (declared in <see cref="ProtocolDescriptor.DetailFields"/>) into <paramref name="destination"/>, of length <see cref="FieldCount"/>.</summary>
    void WriteFields(Span<Field> destination);
}
