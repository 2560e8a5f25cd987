using System.Diagnostics;

namespace Kubebpf.Testing;

/// <summary>
/// Runs small Python scripts (standard library only, passed with <c>-c</c>, so <c>sys.argv[1:]</c> are the arguments)
/// inside <see cref="NetworkPods"/> pods with Debian's <c>/usr/bin/python3</c>: clients and servers a test needs exact
/// control of (one <c>send</c> of 60 KB, UDP datagrams with IPv6 options, multicast joins).
/// </summary>
public static class PodPython
{
    private const string Interpreter = "/usr/bin/python3";

    /// <summary>Runs <paramref name="script"/> with <paramref name="arguments"/> in <paramref name="pod"/> and returns its standard output; throws with its standard error when it fails.</summary>
    public static string Run(Pod pod, string script, params string[] arguments)
    {
        ArgumentNullException.ThrowIfNull(pod);
        return KernelTest.Run("ip", ["netns", "exec", pod.Namespace, Interpreter, "-c", script, .. arguments]);
    }

    /// <summary>Starts <paramref name="script"/> in <paramref name="pod"/> in the background; the pods kill it on dispose.</summary>
    public static Process Start(NetworkPods pods, Pod pod, string script, params string[] arguments)
    {
        ArgumentNullException.ThrowIfNull(pods);
        return pods.Start(pod, Interpreter, ["-c", script, .. arguments]);
    }
}
