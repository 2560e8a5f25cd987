using System.Globalization;
using System.Text.RegularExpressions;
using Kubebpf.Capture.Capture;
using Kubebpf.Testing;

namespace Kubebpf.Capture.Tests;

/// <summary>
/// The tc attachment's life on an interface, read back with <c>tc filter show</c>: a killed agent's filters are
/// replaced at the next start, stopping removes ours, and another tool's filters on the same hooks are never touched.
/// </summary>
[Trait("Category", "Kernel")]
public sealed partial class TcAttachKernelTests
{
    private static readonly string[] Hooks = ["ingress", "egress"];

    [Fact]
    public void A_killed_agents_filters_are_replaced_at_start_and_stop_removes_ours_alone()
    {
        KernelTest.RequireRoot();
        using var pods = NetworkPods.Create(2);
        var (server, client) = (pods.Pods[0], pods.Pods[1]);
        var observed = server.HostInterface;
        // Another tool's filters on both hooks (u32, matching everything, no action): they must outlive our start and stop.
        KernelTest.Run("tc", "qdisc", "add", "dev", observed, "clsact");
        foreach (var hook in Hooks)
        {
            KernelTest.Run("tc", "filter", "add", "dev", observed, hook, "prio", "200", "protocol", "all", "u32", "match", "u32", "0", "0");
        }

        var leftover = LeaveFiltersAsAKilledAgentWould(observed);
        using var nginx = PodNginx.Start(pods, server, """location / { return 200 "hello"; }""");
        var options = new PacketCaptureOptions { Attach = PacketCaptureOptions.TcAttach, Interfaces = [observed], PeerSideInterfaces = [observed], RingBufferBytes = 1 << 20 };
        using (var capture = new PacketCapture(options, new ListLogger()))
        {
            capture.Start();
            foreach (var hook in Hooks)
            {
                var ours = Assert.Single(OurProgramIds(observed, hook));
                Assert.NotEqual(leftover[hook], ours);
                Assert.True(ForeignFilterIsThere(observed, hook), $"the other tool's {hook} filter is gone after our start");
                // Replaced, the killed agent's program is unloaded (after an RCU grace period): it no longer runs into a
                // ring nobody reads.
                Poll.Until(() => !ProgramExists(leftover[hook]), $"the killed agent's {hook} program {leftover[hook]} unloaded");
            }

            NetworkPods.Exec(client, $"for i in $(seq 5); do curl -sf -o /dev/null http://{server.IPv4}/ || exit 1; done");
            // Each request and each response is at least one record on the observed veth.
            Poll.Until(() => capture.ReadCounters().Packets >= 10, "records of the requests through the replacing filters", () => $"{capture.ReadCounters()}");
        }

        foreach (var hook in Hooks)
        {
            Assert.Empty(OurProgramIds(observed, hook));
            Assert.True(ForeignFilterIsThere(observed, hook), $"the other tool's {hook} filter is gone after our stop");
        }
    }

    /// <summary>
    /// Loads the capture's tc programs and attaches them as the agent does, then closes the object without detaching:
    /// what a SIGKILL leaves (the filters hold their programs; the process's descriptors are gone). Returns the
    /// program id per hook.
    /// </summary>
    private static Dictionary<string, uint> LeaveFiltersAsAKilledAgentWould(string interfaceName)
    {
        var index = int.Parse(File.ReadAllText($"/sys/class/net/{interfaceName}/ifindex"), CultureInfo.InvariantCulture);
        using (var obj = FilterHarness.OpenObject())
        {
            PacketCapture.SelectPrograms(obj, tc: true);
            obj.Load();
            _ = PacketCapture.Attach(obj, tc: true, index, interfaceName);
        }

        return Hooks.ToDictionary(hook => hook, hook => Assert.Single(OurProgramIds(interfaceName, hook)));
    }

    /// <summary>The ids of the programs of the filters under the capture's handle on one hook, from <c>tc filter show</c>.</summary>
    private static List<uint> OurProgramIds(string interfaceName, string hook)
    {
        var handle = $"handle 0x{PacketCapture.TcHandle:x} ";
        return [.. KernelTest.Run("tc", "filter", "show", "dev", interfaceName, hook).Split('\n')
            .Where(line => line.Contains(handle, StringComparison.Ordinal))
            .Select(line => uint.Parse(ProgramId().Match(line).Groups[1].Value, CultureInfo.InvariantCulture))];
    }

    private static bool ForeignFilterIsThere(string interfaceName, string hook) =>
        KernelTest.Run("tc", "filter", "show", "dev", interfaceName, hook).Contains("pref 200 u32", StringComparison.Ordinal);

    private static bool ProgramExists(uint id)
    {
        try
        {
            KernelTest.Run("bpftool", "prog", "show", "id", id.ToString(CultureInfo.InvariantCulture));
            return true;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    [GeneratedRegex(@" id (\d+) ")]
    private static partial Regex ProgramId();
}
