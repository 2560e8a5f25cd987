using System.Globalization;
using Microsoft.Extensions.Logging;

namespace Kubebpf.Kubernetes.Attach;

/// <summary>
/// Finds the host-side interface of each local pod without entering the pod through the API (no exec): a process of
/// the pod is found by its cgroup, whose path carries the pod UID (<c>kubepods-besteffort-pod&lt;uid&gt;.slice</c> with
/// the systemd driver, <c>kubepods/besteffort/pod&lt;uid&gt;</c> with cgroupfs); its interfaces are read from the sysfs
/// its container mounted in the pod's network namespace (<c>/proc/&lt;pid&gt;/root/sys/class/net</c>). Each one that is
/// one end of a pair (veth: <c>iflink</c> differs from <c>ifindex</c>) names, by its <c>iflink</c>, the host interface
/// whose own <c>iflink</c> points back at it. Works for bridge and routed CNIs alike (the host end's name does not
/// matter). Reading another process's root needs CAP_SYS_PTRACE. Not thread-safe: one caller (the maintenance loop).
/// </summary>
internal sealed partial class PodInterfaceFinder(string procRoot, string sysClassNet, ILogger logger)
{
    private const int UidLength = 36;
    private readonly Dictionary<string, HostInterface[]> _found = new(StringComparer.Ordinal);
    private bool _reportedDenied;

    /// <summary>The host interfaces found per pod UID.</summary>
    public IReadOnlyDictionary<string, string[]> Interfaces => _found.ToDictionary(e => e.Key, e => e.Value.Select(i => i.Name).ToArray(), StringComparer.Ordinal);

    /// <summary>Pods wanted whose interface is not known (after the last <see cref="Update"/>).</summary>
    public int Missing { get; private set; }

    /// <summary>
    /// Forgets pods no longer wanted and interfaces that vanished or were re-created, then looks for the wanted pods
    /// not found yet. Returns true when the result changed.
    /// </summary>
    public bool Update(IReadOnlySet<string> wantedUids)
    {
        var changed = false;
        foreach (var (uid, interfaces) in _found.ToList())
        {
            if (!wantedUids.Contains(uid) || interfaces.Any(i => ReadInt(Path.Combine(sysClassNet, i.Name, "ifindex")) != i.Index))
            {
                _found.Remove(uid);
                changed = true;
            }
        }

        var missing = wantedUids.Where(uid => !_found.ContainsKey(uid)).ToHashSet(StringComparer.Ordinal);
        if (missing.Count > 0)
        {
            changed |= Search(missing);
        }

        Missing = missing.Count;
        return changed;
    }

    /// <summary>The pod UID in a <c>/proc/&lt;pid&gt;/cgroup</c> file, or null: the first <c>pod</c> followed by a UUID (dashes or underscores).</summary>
    internal static string? PodUid(ReadOnlySpan<char> cgroup)
    {
        for (var at = cgroup.IndexOf("pod", StringComparison.Ordinal); at >= 0; at = Next(cgroup, at))
        {
            var candidate = cgroup.Slice(at + 3);
            if (candidate.Length >= UidLength && IsUuid(candidate[..UidLength]))
            {
                return candidate[..UidLength].ToString().Replace('_', '-');
            }
        }

        return null;

        static int Next(ReadOnlySpan<char> text, int at)
        {
            var next = text[(at + 3)..].IndexOf("pod", StringComparison.Ordinal);
            return next < 0 ? -1 : at + 3 + next;
        }
    }

    private bool Search(HashSet<string> missing)
    {
        var changed = false;
        Dictionary<int, HostInterface>? host = null;
        foreach (var directory in Directory.EnumerateDirectories(procRoot))
        {
            var pid = Path.GetFileName(directory);
            if (pid.Length == 0 || !char.IsAsciiDigit(pid[0]) || TryRead(Path.Combine(directory, "cgroup")) is not { } cgroup
                || PodUid(cgroup) is not { } uid || !missing.Contains(uid))
            {
                continue;
            }

            host ??= HostInterfaces();
            var interfaces = PodInterfaces(directory, host);
            if (interfaces.Length > 0)
            {
                _found[uid] = interfaces;
                missing.Remove(uid);
                changed = true;
                LogFound(uid, string.Join(", ", interfaces.Select(i => i.Name)), pid);
                if (missing.Count == 0)
                {
                    break;
                }
            }
        }

        return changed;
    }

    /// <summary>The host ends of the pairs whose other end is in the process's network namespace.</summary>
    private HostInterface[] PodInterfaces(string processDirectory, Dictionary<int, HostInterface> host)
    {
        var podNet = Path.Combine(processDirectory, "root", sysClassNet.TrimStart('/'));
        IEnumerable<string> names;
        try
        {
            names = Directory.EnumerateDirectories(podNet).Select(Path.GetFileName).OfType<string>().ToList();
        }
        catch (UnauthorizedAccessException)
        {
            if (!_reportedDenied)
            {
                _reportedDenied = true;
                LogDenied(podNet);
            }

            return [];
        }
        catch (IOException)
        {
            return []; // the process exited, or its container has no sysfs
        }

        var found = new List<HostInterface>();
        foreach (var name in names)
        {
            var index = ReadInt(Path.Combine(podNet, name, "ifindex"));
            var link = ReadInt(Path.Combine(podNet, name, "iflink"));
            if (index > 0 && link > 0 && link != index && host.TryGetValue(link, out var end) && end.Link == index)
            {
                found.Add(end);
            }
        }

        return [.. found];
    }

    private Dictionary<int, HostInterface> HostInterfaces()
    {
        var interfaces = new Dictionary<int, HostInterface>();
        foreach (var directory in Directory.EnumerateDirectories(sysClassNet))
        {
            var index = ReadInt(Path.Combine(directory, "ifindex"));
            if (index > 0)
            {
                interfaces[index] = new HostInterface(Path.GetFileName(directory), index, ReadInt(Path.Combine(directory, "iflink")));
            }
        }

        return interfaces;
    }

    private static bool IsUuid(ReadOnlySpan<char> text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            var separator = i is 8 or 13 or 18 or 23;
            if (separator ? text[i] is not ('-' or '_') : !char.IsAsciiHexDigitLower(text[i]))
            {
                return false;
            }
        }

        return true;
    }

    private static string? TryRead(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null; // the process exited
        }
    }

    private static int ReadInt(string path) =>
        TryRead(path) is { } text && int.TryParse(text.AsSpan().Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : -1;

    private readonly record struct HostInterface(string Name, int Index, int Link);

    [LoggerMessage(Level = LogLevel.Information, Message = "Pod {Uid}: host interface {Interfaces} (found through process {Pid})")]
    private partial void LogFound(string uid, string interfaces, string pid);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Cannot read {Path}: reading pods' interfaces needs CAP_SYS_PTRACE (and hostPID); pods are still named by their IPs")]
    private partial void LogDenied(string path);
}
