using Kubebpf.Sdk.Protocols;

namespace Kubebpf.Red;

/// <summary>
/// One measurement name per protocol (its call log's or its R.E.D. measurement), built once: the descriptor builds
/// the name on every read. Descriptors are one per protocol; the bound only stops a parser that makes one per exchange
/// from growing the map. Not thread-safe: the owner synchronises.
/// </summary>
internal sealed class MeasurementNames(Func<ProtocolDescriptor, string> nameOf)
{
    private const int MaxProtocols = 256;
    private readonly Dictionary<ProtocolDescriptor, string> _names = new(ReferenceEqualityComparer.Instance);

    public string Of(ProtocolDescriptor protocol)
    {
        if (_names.TryGetValue(protocol, out var name))
        {
            return name;
        }

        if (_names.Count >= MaxProtocols)
        {
            _names.Clear();
        }

        name = nameOf(protocol);
        _names.Add(protocol, name);
        return name;
    }
}
