using Kubebpf.Sdk.Bpf;

namespace Kubebpf.Sdk.Tests;

/// <summary>The privileges check reads the effective capabilities, never the user id, and asks only what the features need.</summary>
public sealed class CapabilitiesTests
{
    private static readonly Capabilities NetRawOnly = Held(Capability.NetRaw);
    private const int CapSysPtrace = 19;
    private static readonly Capabilities DaemonSet = new(Held(Capability.Bpf, Capability.NetRaw, Capability.Perfmon).Mask | (1UL << CapSysPtrace));

    [Fact]
    public void The_effective_set_is_read_from_the_CapEff_line()
    {
        var capabilities = Capabilities.Parse(["Name:\tkubebpf", "CapInh:\t0000000000000000", "CapPrm:\t000001ffffffffff", "CapEff:\t000000c000082000", "CapBnd:\t000001ffffffffff"]);

        Assert.Equal(0x000000c000082000UL, capabilities.Mask);
        Assert.Equal("CAP_BPF, CAP_PERFMON, CAP_NET_RAW", capabilities.ToString());
        Assert.False(capabilities.Has(Capability.SysAdmin));
    }

    [Fact]
    public void Net_raw_alone_is_not_enough_for_a_socket_filter_whatever_the_user_id()
    {
        var check = KernelRequirements.CheckPrivileges(KernelFeatures.RawSockets, NetRawOnly);

        Assert.False(check.Ok);
        Assert.Equal("missing CAP_BPF (eBPF programs and maps) in the effective capabilities (CAP_NET_RAW): " +
            "run as root, or grant them (a container's securityContext.capabilities.add, without the CAP_ prefix)", check.Detail);
    }

    [Fact]
    public void The_daemonset_capabilities_cover_the_capture_and_the_profiler()
    {
        var check = KernelRequirements.CheckPrivileges(KernelFeatures.RawSockets | KernelFeatures.PerfEvents, DaemonSet);

        Assert.True(check.Ok, check.Detail);
        Assert.Equal("CAP_BPF, CAP_NET_RAW, CAP_PERFMON held (effective: CAP_BPF, CAP_PERFMON, CAP_NET_RAW)", check.Detail);
    }

    [Theory]
    [InlineData(KernelFeatures.None, "")]
    [InlineData(KernelFeatures.RawSockets, "CAP_NET_RAW (AF_PACKET sockets)")]
    [InlineData(KernelFeatures.PerfEvents, "CAP_PERFMON (perf events)")]
    [InlineData(KernelFeatures.TraceFs, "CAP_PERFMON (tracepoints)")]
    [InlineData(KernelFeatures.TrafficControl, "CAP_NET_ADMIN (tc filters)")]
    public void Only_what_the_features_need_is_asked_for(KernelFeatures features, string missing)
    {
        var check = KernelRequirements.CheckPrivileges(features, Held(Capability.Bpf));

        Assert.Equal(missing.Length == 0, check.Ok);
        if (missing.Length > 0)
        {
            Assert.StartsWith($"missing {missing} in the effective capabilities (CAP_BPF)", check.Detail, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Sys_admin_stands_in_for_bpf_and_perfmon_but_not_for_net_raw()
    {
        var check = KernelRequirements.CheckPrivileges(KernelFeatures.RawSockets | KernelFeatures.PerfEvents, Held(Capability.SysAdmin));

        Assert.False(check.Ok);
        Assert.StartsWith("missing CAP_NET_RAW (AF_PACKET sockets) in", check.Detail, StringComparison.Ordinal);
    }

    private static Capabilities Held(params Capability[] capabilities) =>
        new(capabilities.Aggregate(0UL, (mask, c) => mask | (1UL << (int)c)));
}
