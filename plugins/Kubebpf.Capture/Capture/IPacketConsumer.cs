namespace Kubebpf.Capture.Capture;

/// <summary>Receives the records drained by <see cref="PacketCapture.Run"/>: TCP payload chunks, SYN/FIN/RST segments and UDP datagrams.</summary>
public interface IPacketConsumer
{
    /// <summary>
    /// One record, on the capture thread. <paramref name="header"/> and <paramref name="payload"/> point into the
    /// ring buffer and are valid only during the call: copy what must outlive it. Must not throw (an exception ends
    /// <see cref="PacketCapture.Run"/>): count bad input instead.
    /// </summary>
    /// <param name="header">The record's header.</param>
    /// <param name="payload">The captured payload bytes (<see cref="PacketHeader.CapturedLength"/>; possibly fewer than <see cref="PacketHeader.PayloadLength"/>).</param>
    /// <param name="towardsEndpoint">True when the packet travels towards the observed endpoint (into the pod behind a
    /// peer-side interface, or into this host's stack on a local-side one).</param>
    /// <param name="interfaceName">The interface the packet was seen on (a cached string, no allocation).</param>
    void OnPacket(in PacketHeader header, ReadOnlySpan<byte> payload, bool towardsEndpoint, string interfaceName);

    /// <summary>Called on the capture thread after each drained batch that delivered at least one record: publish here.</summary>
    void OnBatchEnd();

    /// <summary>Called on the capture thread when a drain found nothing: housekeeping that must not wait for traffic.</summary>
    void OnIdle()
    {
    }
}
