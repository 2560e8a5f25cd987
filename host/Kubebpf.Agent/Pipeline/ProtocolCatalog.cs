using Kubebpf.Sdk.Protocols;

namespace Kubebpf.Agent.Pipeline;

/// <summary>The protocols of the active plugin instances, filled once before the probes start.</summary>
internal sealed class ProtocolCatalog : IProtocolCatalog
{
    public IReadOnlyList<ProtocolRegistration<IStreamProtocol>> StreamProtocols { get; private set; } = [];

    public IReadOnlyList<ProtocolRegistration<IDatagramProtocol>> DatagramProtocols { get; private set; } = [];

    public void Set(IReadOnlyList<ProtocolRegistration<IStreamProtocol>> stream, IReadOnlyList<ProtocolRegistration<IDatagramProtocol>> datagram)
    {
        StreamProtocols = stream;
        DatagramProtocols = datagram;
    }
}
