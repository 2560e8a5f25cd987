using System.Globalization;
using System.Net;
using Kubebpf.Sdk.Metadata;
using Kubebpf.Sdk.Net;

namespace Kubebpf.Profiler.Attribution;

/// <summary>What the profiler knows of a sampled process.</summary>
/// <param name="Command">Its command name (<c>/proc/&lt;pid&gt;/comm</c>, or the kernel's when it has exited).</param>
/// <param name="Owner">The pod it runs in, or the host.</param>
/// <param name="Alive">Whether <c>/proc</c> still had the process; an exited one is the host's unless its cgroup says otherwise.</param>
internal sealed record ProcessInfo(string Command, ProfileOwner Owner, bool Alive);

/// <summary>
/// Names the pod a process runs in. A pod's processes share its network namespace, so the pod is the one the metadata
/// plugins know by that namespace's addresses (the same names network traffic gets); a process in the agent's own
/// network namespace is the host's. A pod the metadata does not know is named by the pod UID its cgroup path carries
/// (the kubelet layout: <c>kubepods-…-pod&lt;uid&gt;.slice</c> or <c>kubepods/…/pod&lt;uid&gt;</c>), else by its cgroup.
/// Per-namespace answers are cached for one drain (<see cref="BeginDrain"/>). Not thread-safe: the drain thread owns it.
/// </summary>
internal sealed class ProcessAttributor(IWorkloadResolver resolver, string proc = "/proc")
{
    private readonly Dictionary<string, ProfileOwner?> _byNetworkNamespace = new(StringComparer.Ordinal);
    private string? _hostNetworkNamespace;

    /// <summary>Forgets the cached namespace answers: metadata and addresses may have changed since.</summary>
    public void BeginDrain() => _byNetworkNamespace.Clear();

    /// <summary>Reads what <c>/proc</c> says of <paramref name="pid"/>; <paramref name="kernelCommand"/> stands in for a process that has exited.</summary>
    public ProcessInfo Describe(int pid, string kernelCommand)
    {
        var directory = Path.Combine(proc, pid.ToString(CultureInfo.InvariantCulture));
        var comm = Read(Path.Combine(directory, "comm"))?.TrimEnd('\n');
        var cgroups = Read(Path.Combine(directory, "cgroup")) ?? "";
        return comm is null
            ? new ProcessInfo(kernelCommand, ProfileOwner.Host, Alive: false)
            : new ProcessInfo(comm.Length > 0 ? comm : kernelCommand, Owner(directory, cgroups), Alive: true);
    }

    private ProfileOwner Owner(string directory, string cgroups)
    {
        var netns = Link(Path.Combine(directory, "ns", "net"));
        _hostNetworkNamespace ??= Link(Path.Combine(proc, "self", "ns", "net"));
        if (netns is null || netns == _hostNetworkNamespace)
        {
            return PodByCgroup(cgroups) ?? ProfileOwner.Host;
        }

        if (!_byNetworkNamespace.TryGetValue(netns, out var owner))
        {
            owner = LocalAddresses(directory).Select(a => resolver.ResolveEndpoint(NetworkEndpoint.From(a, 0))).FirstOrDefault(i => i is not null) is { } identity
                ? ProfileOwner.Of(identity)
                : null;
            _byNetworkNamespace[netns] = owner;
        }

        return owner ?? PodByCgroup(cgroups) ?? new ProfileOwner("", "", netns);
    }

    /// <summary>A pod named by the UID its cgroup path carries, or null.</summary>
    private static ProfileOwner? PodByCgroup(string cgroups) =>
        PodUid(cgroups) is { } uid ? new ProfileOwner("", "", "pod-" + uid) : null;

    /// <summary>The pod UID in a <c>/proc/&lt;pid&gt;/cgroup</c> text: the first <c>pod</c> followed by a UUID (dashes or underscores).</summary>
    internal static string? PodUid(ReadOnlySpan<char> cgroups)
    {
        const int UuidLength = 36;
        for (var at = cgroups.IndexOf("pod", StringComparison.Ordinal); at >= 0;)
        {
            var candidate = cgroups[(at + 3)..];
            if (candidate.Length >= UuidLength && IsUuid(candidate[..UuidLength]))
            {
                return candidate[..UuidLength].ToString().Replace('_', '-');
            }

            var next = cgroups[(at + 3)..].IndexOf("pod", StringComparison.Ordinal);
            at = next < 0 ? -1 : at + 3 + next;
        }

        return null;
    }

    private static bool IsUuid(ReadOnlySpan<char> text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            var dash = i is 8 or 13 or 18 or 23;
            if (dash ? text[i] is not ('-' or '_') : !char.IsAsciiHexDigit(text[i]))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The non-loopback addresses of the process' network namespace (IPv4 from fib_trie, IPv6 from if_inet6).</summary>
    internal IEnumerable<IPAddress> LocalAddresses(string directory)
    {
        var addresses = new List<IPAddress>();
        var trie = Read(Path.Combine(directory, "net", "fib_trie"));
        if (trie is not null)
        {
            // "     |-- 10.1.2.3" followed by "        /32 host LOCAL": the local addresses of the namespace.
            string? previous = null;
            foreach (var line in trie.Split('\n'))
            {
                if (line.Contains("/32 host LOCAL", StringComparison.Ordinal) && previous is not null
                    && IPAddress.TryParse(previous.AsSpan(previous.LastIndexOf(' ') + 1), out var v4) && !IPAddress.IsLoopback(v4)
                    && !addresses.Contains(v4))
                {
                    addresses.Add(v4);
                }

                if (line.Contains("|--", StringComparison.Ordinal))
                {
                    previous = line.Trim();
                }
            }
        }

        foreach (var line in (Read(Path.Combine(directory, "net", "if_inet6")) ?? "").Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var hex = line.Split(' ', 2)[0];
            if (hex.Length == 32 && IPAddress.TryParse(string.Join(':', Enumerable.Range(0, 8).Select(i => hex.Substring(i * 4, 4))), out var v6)
                && !IPAddress.IsLoopback(v6) && !v6.IsIPv6LinkLocal)
            {
                addresses.Add(v6);
            }
        }

        return addresses;
    }

    private static string? Read(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static string? Link(string path)
    {
        try
        {
            return new FileInfo(path).LinkTarget;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
