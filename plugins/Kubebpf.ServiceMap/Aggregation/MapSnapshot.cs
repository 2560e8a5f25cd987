using Kubebpf.ServiceMap.Naming;
using Kubebpf.ServiceMap.Rendering;
using Microsoft.Extensions.Logging;

namespace Kubebpf.ServiceMap.Aggregation;

/// <summary>
/// This node's current map for <c>kubebpf map</c>: the graph edges counted in the last <see cref="Retention"/>, with
/// their totals, written to <see cref="ServiceMapOptions.SnapshotFile"/> at each flush (whole, then renamed, so a
/// reader never sees half a file). Bounded by <see cref="ServiceMapOptions.MaxEdges"/>. Called from the flush thread only.
/// </summary>
internal sealed partial class MapSnapshot(ServiceMapOptions options, ILogger<MapSnapshot> logger)
{
    /// <summary>How long an edge stays on the map after its last call or connection.</summary>
    public static readonly TimeSpan Retention = TimeSpan.FromMinutes(15);

    private readonly Dictionary<PairKey, Totals> _edges = [];
    private long _sinceUnixMs;
    private bool _reportedWriteFailure;

    /// <summary>The map as of the last flush.</summary>
    public MapDocument Current { get; private set; } = new(options.NodeName, 0, 0, [], []);

    public void Add(Dictionary<PairKey, PairTotals> window, long windowEndUnixNs)
    {
        var nowMs = windowEndUnixNs / 1_000_000;
        if (_sinceUnixMs == 0)
        {
            _sinceUnixMs = nowMs;
        }

        foreach (var (pair, totals) in window)
        {
            if (!_edges.TryGetValue(pair, out var kept))
            {
                if (_edges.Count >= options.MaxEdges)
                {
                    continue;
                }

                kept = new Totals();
                _edges.Add(pair, kept);
            }

            kept.Add(totals, nowMs);
        }

        var oldest = nowMs - (long)Retention.TotalMilliseconds;
        foreach (var (pair, kept) in _edges)
        {
            if (kept.LastSeenUnixMs < oldest)
            {
                _edges.Remove(pair);
            }
        }

        var nodes = _edges.Keys.SelectMany(p => (MapNode[])[p.Source, p.Target]).Distinct().OrderBy(n => n.Id, StringComparer.Ordinal)
            .Select(n => new MapDocumentNode(n.Id, n.Title, n.Subtitle)).ToList();
        var edges = _edges.OrderBy(e => e.Key.Source.Id, StringComparer.Ordinal).ThenBy(e => e.Key.Target.Id, StringComparer.Ordinal)
            .Select(e => e.Value.ToEdge(e.Key)).ToList();
        Current = new MapDocument(options.NodeName, nowMs, Math.Max(_sinceUnixMs, oldest), nodes, edges);
        Write();
    }

    private void Write()
    {
        if (options.SnapshotFile.Length == 0)
        {
            return;
        }

        try
        {
            var directory = Path.GetDirectoryName(Path.GetFullPath(options.SnapshotFile))!;
            Directory.CreateDirectory(directory);
            var temporary = options.SnapshotFile + ".tmp";
            File.WriteAllText(temporary, Current.ToJson());
            File.Move(temporary, options.SnapshotFile, overwrite: true);
            _reportedWriteFailure = false;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            if (!_reportedWriteFailure)
            {
                _reportedWriteFailure = true;
                LogWriteFailed(options.SnapshotFile, ex.Message);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Cannot write the service map snapshot {File} (kubebpf map reads it): {Reason}")]
    private partial void LogWriteFailed(string file, string reason);

    private sealed class Totals
    {
        private long _requests;
        private long _errors;
        private long _durationSumNs;
        private long _connects;
        private long _failedConnects;
        private long _bytes;
        private long _retransmits;
        private long _active;

        public long LastSeenUnixMs { get; private set; }

        public void Add(PairTotals window, long nowMs)
        {
            _requests += window.Requests;
            _errors += window.Errors;
            _durationSumNs += window.DurationSumNs;
            _connects += window.Connects;
            _failedConnects += window.FailedConnects;
            _bytes += window.Bytes;
            _retransmits += window.Retransmissions;
            _active = window.Active;
            LastSeenUnixMs = nowMs;
        }

        public MapDocumentEdge ToEdge(PairKey pair) => new(
            pair.Source.Id, pair.Target.Id, _requests, _errors, _requests == 0 ? 0 : _durationSumNs / 1e6 / _requests,
            _connects, _failedConnects, _bytes, _retransmits, _active, LastSeenUnixMs);
    }
}
