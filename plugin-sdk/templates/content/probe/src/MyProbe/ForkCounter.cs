using Kubebpf.Sdk.Metrics;
using Kubebpf.Sdk.Pipeline;

namespace MyProbe;

/// <summary>
/// The processor: counts forks per command name and writes one process_forks point per name at each flush.
/// <see cref="Add"/> runs on the probe's thread, <see cref="Flush"/> on the host's flush thread: both take the lock.
/// </summary>
public sealed class ForkCounter : IFlushable
{
    private readonly Lock _lock = new();
    private Dictionary<string, long> _counts = new(StringComparer.Ordinal);

    public void Add(in ForkEvent fork)
    {
        lock (_lock)
        {
            _counts[fork.ParentComm] = _counts.GetValueOrDefault(fork.ParentComm) + 1;
        }
    }

    public void Flush(long windowEndUnixNs, IPointWriter output)
    {
        Dictionary<string, long> window;
        lock (_lock)
        {
            window = _counts;
            _counts = new Dictionary<string, long>(StringComparer.Ordinal);
        }

        var points = new List<MetricPoint>(window.Count);
        foreach (var (comm, count) in window.OrderBy(c => c.Key, StringComparer.Ordinal))
        {
            Tag[] tags = comm.Length == 0 ? [] : [new Tag("comm", comm)];
            points.Add(new MetricPoint(ForkContract.ProcessForks.Name, tags, [new Field("count", FieldValue.Integer(count))], windowEndUnixNs));
        }

        if (points.Count > 0)
        {
            output.Write(points);
        }
    }
}
