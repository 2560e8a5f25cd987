namespace Kubebpf.Testing;

/// <summary>Waits for servers started in <see cref="NetworkPods"/> pods.</summary>
public static class PodSockets
{
    /// <summary>
    /// Waits until something listens on TCP <paramref name="port"/> in <paramref name="pod"/>; after <paramref name="timeout"/>
    /// it throws with what <paramref name="diagnostics"/> returns (e.g. the server's log).
    /// </summary>
    /// <exception cref="TimeoutException">Nothing listened within <paramref name="timeout"/>.</exception>
    public static void WaitForListener(Pod pod, int port, TimeSpan timeout, Func<string> diagnostics) =>
        WaitFor(pod, "TCP", $"ss -ltnH 'sport = :{port}'", port, timeout, diagnostics);

    /// <summary>
    /// Waits until a UDP socket is bound to <paramref name="port"/> in <paramref name="pod"/>; after <paramref name="timeout"/>
    /// it throws with what <paramref name="diagnostics"/> returns.
    /// </summary>
    /// <exception cref="TimeoutException">Nothing was bound within <paramref name="timeout"/>.</exception>
    public static void WaitForUdpListener(Pod pod, int port, TimeSpan timeout, Func<string> diagnostics) =>
        WaitFor(pod, "UDP", $"ss -lunH 'sport = :{port}'", port, timeout, diagnostics);

    private static void WaitFor(Pod pod, string protocol, string ssCommand, int port, TimeSpan timeout, Func<string> diagnostics)
    {
        ArgumentNullException.ThrowIfNull(pod);
        ArgumentNullException.ThrowIfNull(diagnostics);
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            // "sport = :N" filters exactly; the output is empty until a listener exists.
            if (NetworkPods.Exec(pod, ssCommand, check: false).Output.Trim().Length > 0)
            {
                return;
            }

            Thread.Sleep(50);
        }

        throw new TimeoutException($"Nothing listens on {protocol} port {port} in {pod.Namespace} after {timeout}:\n{diagnostics()}");
    }
}
