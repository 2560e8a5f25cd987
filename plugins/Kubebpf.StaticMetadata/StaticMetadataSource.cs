using Kubebpf.Sdk.Metadata;
using Kubebpf.Sdk.Net;
using Kubebpf.Sdk.Pipeline;
using Microsoft.Extensions.Logging;

namespace Kubebpf.StaticMetadata;

/// <summary>
/// Answers identity lookups from the workload file. The file is loaded at construction (a malformed file fails
/// start-up), then polled: when its modification time or size changes it is parsed into a new snapshot that replaces
/// the old one atomically; a malformed new version is logged and counted, and the previous snapshot stays in use.
/// </summary>
public sealed class StaticMetadataSource : IWorkloadMetadataSource, IDisposable
{
    private readonly string _path;
    private readonly TimeSpan _interval;
    private readonly ILogger _logger;
    private readonly Counter _reloadErrors;
    private readonly ITimer? _timer;
    private WorkloadSnapshot _snapshot;
    private FileStamp _stamp;

    /// <summary>Loads the file and starts watching it.</summary>
    /// <exception cref="WorkloadFileException">The file is malformed.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public StaticMetadataSource(StaticMetadataOptions options, TimeProvider time, IAgentMetrics metrics, ILogger<StaticMetadataSource> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(time);
        ArgumentNullException.ThrowIfNull(metrics);
        if (string.IsNullOrWhiteSpace(options.File))
        {
            throw new ArgumentException("the static metadata plugin needs 'File', the path of the workload file", nameof(options));
        }

        _path = Path.GetFullPath(options.File);
        _interval = options.ReloadInterval;
        _logger = logger;
        _reloadErrors = metrics.Counter("reload_errors", "a changed workload file could not be loaded; the previous version stays in use");

        _stamp = FileStamp.Of(_path);
        _snapshot = Load();
        metrics.Gauge("workloads", "workloads in the loaded file", () => Volatile.Read(ref _snapshot).WorkloadCount);
        _logger.LogInformation("Loaded {Count} workloads from {File}", _snapshot.WorkloadCount, _path);
        if (_interval > TimeSpan.Zero)
        {
            // One-shot timer re-armed after each check, so a slow parse never overlaps the next one.
            _timer = time.CreateTimer(_ => CheckForChange(), null, _interval, Timeout.InfiniteTimeSpan);
        }
    }

    /// <inheritdoc />
    public WorkloadIdentity? ResolveEndpoint(in NetworkEndpoint endpoint) => Volatile.Read(ref _snapshot).ResolveEndpoint(endpoint);

    /// <inheritdoc />
    public WorkloadIdentity? ResolveInterface(string interfaceName)
    {
        ArgumentNullException.ThrowIfNull(interfaceName);
        return Volatile.Read(ref _snapshot).ResolveInterface(interfaceName);
    }

    /// <summary>Stops watching the file.</summary>
    public void Dispose() => _timer?.Dispose();

    /// <summary>Reloads the file now if it changed since the last load (the timer calls this).</summary>
    internal void CheckForChange()
    {
        try
        {
            var stamp = FileStamp.Of(_path);
            if (stamp == _stamp)
            {
                return;
            }

            var snapshot = Load();
            // A file still being written changes again under us: leave it for the next check.
            if (FileStamp.Of(_path) != stamp)
            {
                return;
            }

            _stamp = stamp;
            Volatile.Write(ref _snapshot, snapshot);
            _logger.LogInformation("Reloaded {Count} workloads from {File}", snapshot.WorkloadCount, _path);
        }
        catch (Exception e) when (e is WorkloadFileException or IOException or UnauthorizedAccessException)
        {
            _reloadErrors.Increment();
            // Remember the bad version so it is reported once, not at every check.
            _stamp = FileStamp.TryOf(_path);
            _logger.LogError("Keeping the previous workloads: {Problem}", e.Message);
        }
        finally
        {
            _timer?.Change(_interval, Timeout.InfiniteTimeSpan);
        }
    }

    private WorkloadSnapshot Load() => WorkloadSnapshot.Build(_path, WorkloadFileParser.Parse(_path, File.ReadAllText(_path)));

    private readonly record struct FileStamp(DateTime LastWriteUtc, long Length)
    {
        public static FileStamp Of(string path)
        {
            var info = new FileInfo(path);
            return info.Exists ? new(info.LastWriteTimeUtc, info.Length) : throw new FileNotFoundException($"{path}: the workload file does not exist", path);
        }

        public static FileStamp TryOf(string path)
        {
            var info = new FileInfo(path);
            return info.Exists ? new(info.LastWriteTimeUtc, info.Length) : default;
        }
    }
}
