namespace Kubebpf.Capture.Flows;

/// <summary>
/// Where each side of a connection ended by its own FIN or RST had got to, so that its late segments are known for
/// what they are: a sender whose ACK was slow sends its last bytes again (a tail loss probe, a retransmission timeout),
/// and those may be captured after the close. Without this they would start a connection seen mid-stream, whose parser
/// reads answers without their requests. A fixed number of slots chosen by the key's hash, a newer close overwriting
/// an older one: bounded memory, no allocation, one lookup only for a segment of a connection not tracked.
/// </summary>
internal sealed class ClosedConnections
{
    /// <summary>1,024 slots of 72 bytes: a close is remembered until a thousand or so later ones reuse its slot.</summary>
    private const int Slots = 1024;

    /// <summary>
    /// How far behind a side's end a late segment may start: a sender resends no more than it had unacknowledged. A
    /// later connection on the same addresses and ports, whose SYN was missed, starts at an unrelated sequence number,
    /// so it lands in this window of 16 MiB in under one case in 250 (and only within <see cref="KeepNs"/>).
    /// </summary>
    private const int MaxLateBytes = 16 << 20;

    /// <summary>No segment outlives twice the maximum segment lifetime (TIME_WAIT): older closes are forgotten.</summary>
    private const long KeepNs = 60_000_000_000;

    // An empty slot knows no side's end, so it finds nothing late.
    private readonly Closed[] _slots = new Closed[Slots];

    /// <summary>Remembers where both sides of <paramref name="flow"/> ended.</summary>
    public void Remember(TcpFlow flow, long nowNs)
    {
        ref var slot = ref _slots[(uint)flow.Key.GetHashCode() & (Slots - 1)];
        slot = new Closed(flow.Key, nowNs, End(flow.Direction(0)), End(flow.Direction(1)));
    }

    /// <summary>Whether a segment of <paramref name="length"/> bytes from <paramref name="seq"/> was all sent before its connection closed.</summary>
    public bool IsLate(in FlowKey key, int side, uint seq, int length, long nowNs)
    {
        ref readonly var slot = ref _slots[(uint)key.GetHashCode() & (Slots - 1)];
        if (slot.Key != key || nowNs - slot.ClosedNs > KeepNs)
        {
            return false;
        }

        var end = side == 0 ? slot.LowEnd : slot.HighEnd;
        if (end is not { } next)
        {
            return false;
        }

        var behind = (long)(int)(next - seq);
        return behind >= length && behind <= MaxLateBytes;
    }

    private static uint? End(StreamDirection direction) => direction.HasSequence ? direction.NextSequence : null;

    private readonly record struct Closed(FlowKey Key, long ClosedNs, uint? LowEnd, uint? HighEnd);
}
