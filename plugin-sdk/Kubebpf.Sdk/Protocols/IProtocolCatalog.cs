namespace Kubebpf.Sdk.Protocols;

/// <summary>A protocol registered by a plugin instance.</summary>
/// <typeparam name="T"><see cref="IStreamProtocol"/> or <see cref="IDatagramProtocol"/>.</typeparam>
/// <param name="Protocol">The protocol.</param>
/// <param name="InstanceName">The plugin instance that registered it.</param>
/// <param name="ReportFailure">Marks that instance failed (its parser threw): the capture stops offering it flows.</param>
public sealed record ProtocolRegistration<T>(T Protocol, string InstanceName, Action<Exception> ReportFailure)
    where T : class;

/// <summary>
/// Every protocol the active plugin instances registered, in configuration order. Provided by the host to every
/// plugin; complete once probes run (read it in <see cref="Pipeline.IProbe.RunAsync"/>, not at construction).
/// </summary>
public interface IProtocolCatalog
{
    /// <summary>The TCP protocols.</summary>
    IReadOnlyList<ProtocolRegistration<IStreamProtocol>> StreamProtocols { get; }

    /// <summary>The UDP protocols.</summary>
    IReadOnlyList<ProtocolRegistration<IDatagramProtocol>> DatagramProtocols { get; }
}
