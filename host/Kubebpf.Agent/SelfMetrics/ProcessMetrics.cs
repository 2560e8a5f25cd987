using Kubebpf.Sdk.Pipeline;

namespace Kubebpf.Agent.SelfMetrics;

/// <summary>
/// The agent's own memory and garbage collector, as gauges of the <c>agent</c> component: what a node pays for the agent
/// at rest and under load, beside what it observed. Read at each flush (a read of <c>/proc/self/status</c> per memory gauge).
/// </summary>
internal static class ProcessMetrics
{
    private const string StatusFile = "/proc/self/status";

    /// <summary>Registers the gauges on <paramref name="metrics"/>.</summary>
    public static void Register(IAgentMetrics metrics)
    {
        metrics.Gauge("memory_rss_bytes", "resident memory now (VmRSS): private memory plus the mapped runtime, assemblies and ring buffer", () => Status().Rss);
        metrics.Gauge("memory_peak_rss_bytes", "the most resident memory since the agent started (VmHWM)", () => Status().PeakRss);
        metrics.Gauge("memory_private_bytes", "anonymous and shared-memory pages resident now (RssAnon + RssShmem): the agent's own memory, without the files it maps", () => Status().Private);
        metrics.Gauge("gc_heap_bytes", "managed heap size after the last collection", () => GC.GetGCMemoryInfo().HeapSizeBytes);
        metrics.Gauge("gc_committed_bytes", "memory the garbage collector has committed", () => GC.GetGCMemoryInfo().TotalCommittedBytes);
        metrics.Gauge("gc_allocated_bytes", "bytes allocated on the managed heap since the agent started", () => GC.GetTotalAllocatedBytes());
        metrics.Gauge("gc_collections_gen0", "garbage collections of generation 0 (and above) since the agent started", () => GC.CollectionCount(0));
        metrics.Gauge("gc_collections_gen1", "garbage collections of generation 1 (and above) since the agent started", () => GC.CollectionCount(1));
        metrics.Gauge("gc_collections_gen2", "full garbage collections since the agent started", () => GC.CollectionCount(2));
        metrics.Gauge("gc_pause_ms", "time the garbage collector paused the agent's threads since it started", () => (long)GC.GetTotalPauseDuration().TotalMilliseconds);
    }

    private static ProcessMemory Status() => ProcessMemory.Parse(File.ReadAllText(StatusFile));
}

/// <summary>Resident memory figures of a process from its <c>/proc/&lt;pid&gt;/status</c>, in bytes (-1 where the kernel gave none).</summary>
/// <param name="Rss">VmRSS.</param>
/// <param name="PeakRss">VmHWM.</param>
/// <param name="Private">RssAnon + RssShmem.</param>
internal readonly record struct ProcessMemory(long Rss, long PeakRss, long Private)
{
    /// <summary>Reads the figures from the text of a status file; lines it does not know are ignored.</summary>
    public static ProcessMemory Parse(string status)
    {
        long rss = -1, peak = -1, anon = -1, shmem = -1;
        foreach (var line in status.AsSpan().EnumerateLines())
        {
            var colon = line.IndexOf(':');
            if (colon <= 0)
            {
                continue;
            }

            var value = Kilobytes(line[(colon + 1)..]);
            switch (line[..colon])
            {
                case "VmRSS": rss = value; break;
                case "VmHWM": peak = value; break;
                case "RssAnon": anon = value; break;
                case "RssShmem": shmem = value; break;
            }
        }

        return new ProcessMemory(rss, peak, anon < 0 || shmem < 0 ? -1 : anon + shmem);
    }

    // "   12345 kB" -> 12345 * 1024; anything else -> -1.
    private static long Kilobytes(ReadOnlySpan<char> text)
    {
        text = text.Trim();
        return text.EndsWith(" kB", StringComparison.Ordinal) && long.TryParse(text[..^3], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var kb)
            ? kb * 1024
            : -1;
    }
}
