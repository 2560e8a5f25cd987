using System.Globalization;

namespace Kubebpf.Dns.Search;

/// <summary>
/// Finds a pod's <c>resolv.conf</c> from its host-side interface, without the Kubernetes API: a process whose network
/// namespace holds the interface's peer (seen through the sysfs that process's container mounted,
/// <c>/proc/&lt;pid&gt;/root/sys/class/net</c>: an interface whose <c>iflink</c> is the host end's <c>ifindex</c> and
/// whose <c>ifindex</c> is the host end's <c>iflink</c>), then <c>/proc/&lt;pid&gt;/root/etc/resolv.conf</c> of that
/// process. Reading another process's root needs CAP_SYS_PTRACE. Slow (a walk of /proc): call it off the capture thread.
/// </summary>
internal sealed class PodProcessFinder(string procRoot = "/proc", string sysClassNet = "/sys/class/net")
{
    /// <summary>The search list of the pod behind <paramref name="hostInterface"/>, or null when no process of it is found.</summary>
    public string[]? SearchDomains(string hostInterface)
    {
        var hostIndex = ReadInt(Path.Combine(sysClassNet, hostInterface, "ifindex"));
        var hostLink = ReadInt(Path.Combine(sysClassNet, hostInterface, "iflink"));
        if (hostIndex is null || hostLink is null || hostIndex == hostLink)
        {
            return null; // not one end of a pair: the host's own stack
        }

        var ownNamespace = Link(Path.Combine(procRoot, "self", "ns", "net"));
        var checkedNamespaces = new HashSet<string>(StringComparer.Ordinal);
        foreach (var directory in SafeEnumerate(procRoot))
        {
            if (!int.TryParse(Path.GetFileName(directory), NumberStyles.None, CultureInfo.InvariantCulture, out _))
            {
                continue;
            }

            var netns = Link(Path.Combine(directory, "ns", "net"));
            if (netns is null || netns == ownNamespace || checkedNamespaces.Contains(netns))
            {
                continue;
            }

            if (!HoldsPeer(Path.Combine(directory, "root", "sys", "class", "net"), hostIndex.Value, hostLink.Value))
            {
                // This process may see another namespace's sysfs; only a positive answer settles a namespace.
                continue;
            }

            checkedNamespaces.Add(netns);
            try
            {
                return ResolvConf.SearchDomains(File.ReadAllText(Path.Combine(directory, "root", "etc", "resolv.conf")));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // gone, or no resolv.conf in its root: another process of the pod may have one
            }
        }

        return null;
    }

    private static bool HoldsPeer(string podSysClassNet, int hostIndex, int hostLink)
    {
        foreach (var device in SafeEnumerate(podSysClassNet))
        {
            if (ReadInt(Path.Combine(device, "iflink")) == hostIndex && ReadInt(Path.Combine(device, "ifindex")) == hostLink)
            {
                return true;
            }
        }

        return false;
    }

    private static IEnumerable<string> SafeEnumerate(string directory)
    {
        try
        {
            return Directory.GetDirectories(directory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
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

    private static int? ReadInt(string path)
    {
        try
        {
            return int.TryParse(File.ReadAllText(path).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var value) ? value : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
