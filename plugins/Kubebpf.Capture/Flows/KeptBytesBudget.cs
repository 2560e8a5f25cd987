using Kubebpf.Sdk.Pipeline;

namespace Kubebpf.Capture.Flows;

/// <summary>
/// The bytes all TCP flows together may keep for their parsers and sniffers (<see cref="FlowTrackerOptions.KeptBytesBudget"/>),
/// counted by the size of the pooled buffers they hold. A flow that would grow past it drops what it kept instead, and
/// the drop is counted: many connections each holding an unfinished message cannot take the agent past its memory limit.
/// </summary>
/// <remarks>Used from the capture thread only, like the tracker.</remarks>
internal sealed class KeptBytesBudget
{
    private readonly long _limit;
    private readonly Counter _refused;
    private long _used;

    public KeptBytesBudget(long limit, IAgentMetrics metrics)
    {
        _limit = limit;
        _refused = metrics.Counter("kept_bytes_refused", "times a TCP flow's kept bytes were dropped because all flows together held KeptBytesBudget (a loss; the parser skips them as a gap)");
        metrics.Gauge("kept_bytes", "bytes of the buffers TCP flows hold for unfinished messages, all flows", () => Volatile.Read(ref _used));
    }

    public long Used => _used;

    /// <summary>Takes <paramref name="bytes"/> from the budget; false (and counted) when they do not fit.</summary>
    public bool TryTake(int bytes)
    {
        if (_used + bytes > _limit)
        {
            _refused.Increment();
            return false;
        }

        Volatile.Write(ref _used, _used + bytes);
        return true;
    }

    public void Give(int bytes) => Volatile.Write(ref _used, _used - bytes);
}
