using Kubebpf.Sdk.Protocols;

namespace Kubebpf.Capture.Flows;

/// <summary>A registered protocol as the tracker uses it: descriptor and match read once, and whether its parser failed.</summary>
internal abstract class ProtocolEntry(IProtocol protocol, Action<Exception> reportFailure)
{
    private const int MaxBufferedBytesLimit = 1 << 20;

    public ProtocolDescriptor Descriptor { get; } = protocol.Descriptor;

    public ProtocolMatch Match { get; } = protocol.Match;

    /// <summary>The stream protocol's <see cref="IStreamProtocol.MaxBufferedBytes"/>, bounded at 1 MiB.</summary>
    public int MaxBufferedBytes { get; } = protocol is IStreamProtocol stream ? Math.Clamp(stream.MaxBufferedBytes, 0, MaxBufferedBytesLimit) : 0;

    /// <summary>Its parser threw once: it is offered nothing more, and its flows are closed.</summary>
    public bool Failed { get; private set; }

    public void Fail(Exception error)
    {
        if (!Failed)
        {
            Failed = true;
            reportFailure(error);
        }
    }
}

/// <summary>A registered protocol of one transport.</summary>
internal sealed class ProtocolEntry<T>(ProtocolRegistration<T> registration) : ProtocolEntry(registration.Protocol, registration.ReportFailure)
    where T : class, IProtocol
{
    public T Protocol { get; } = registration.Protocol;
}

/// <summary>The protocols of one transport, in configuration order, and the choice of one for a new flow.</summary>
internal sealed class ProtocolSet<T>(IReadOnlyList<ProtocolRegistration<T>> registrations, FlowCounters counters)
    where T : class, IProtocol
{
    private readonly ProtocolEntry<T>[] _entries = [.. registrations.Select(r => new ProtocolEntry<T>(r))];

    /// <summary>
    /// Offers a flow's first bytes to the protocols serving one of its ports first, then to those that sniff any flow.
    /// Returns the first that claims it (with its answer), or null with NeedMoreData when one may still claim it.
    /// </summary>
    public ProtocolEntry<T>? Classify(ReadOnlySpan<byte> data, in SniffContext context, out SniffResult result)
    {
        var mayClaim = false;
        foreach (var byPort in (ReadOnlySpan<bool>)[true, false])
        {
            foreach (var entry in _entries)
            {
                var portMatched = entry.Match.HasPort(context.SenderPort) || entry.Match.HasPort(context.ReceiverPort);
                if (entry.Failed || portMatched != byPort || !(portMatched || entry.Match.Sniff))
                {
                    continue;
                }

                var answer = Sniff(entry, data, context);
                if (answer is SniffResult.SenderIsClient or SniffResult.SenderIsServer)
                {
                    result = answer;
                    return entry;
                }

                mayClaim |= answer == SniffResult.NeedMoreData;
            }
        }

        result = mayClaim ? SniffResult.NeedMoreData : SniffResult.NotThisProtocol;
        return null;
    }

    private SniffResult Sniff(ProtocolEntry<T> entry, ReadOnlySpan<byte> data, in SniffContext context)
    {
        try
        {
            return entry.Protocol.Sniff(data, context);
        }
        catch (Exception ex)
        {
            counters.ParserFailures.Increment();
            entry.Fail(ex);
            return SniffResult.NotThisProtocol;
        }
    }
}
