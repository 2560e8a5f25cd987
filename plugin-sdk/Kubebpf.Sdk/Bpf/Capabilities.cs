using System.Globalization;

namespace Kubebpf.Sdk.Bpf;

/// <summary>The Linux capabilities the probes' requirements are expressed in (bit numbers of <c>linux/capability.h</c>).</summary>
internal enum Capability
{
    NetAdmin = 12,
    NetRaw = 13,
    SysAdmin = 21,
    Perfmon = 38,
    Bpf = 39,
}

/// <summary>A capability set, e.g. the process's effective one (<c>CapEff</c> in <c>/proc/self/status</c>).</summary>
internal readonly record struct Capabilities(ulong Mask)
{
    private static readonly Capability[] Known = [Capability.Bpf, Capability.Perfmon, Capability.NetRaw, Capability.NetAdmin, Capability.SysAdmin];

    /// <summary>The effective capabilities of this process.</summary>
    public static Capabilities Effective() => Parse(File.ReadLines("/proc/self/status"));

    /// <summary>The <c>CapEff</c> line of a <c>/proc/&lt;pid&gt;/status</c> file; none when it is missing.</summary>
    public static Capabilities Parse(IEnumerable<string> statusLines)
    {
        var line = statusLines.FirstOrDefault(l => l.StartsWith("CapEff:", StringComparison.Ordinal));
        return new(line is null ? 0 : ulong.Parse(line.AsSpan("CapEff:".Length).Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture));
    }

    public bool Has(Capability capability) => (Mask & (1UL << (int)capability)) != 0;

    /// <summary>Whether what <paramref name="capability"/> permits is permitted: CAP_SYS_ADMIN still covers CAP_BPF and CAP_PERFMON.</summary>
    public bool Allows(Capability capability) =>
        Has(capability) || (capability is Capability.Bpf or Capability.Perfmon && Has(Capability.SysAdmin));

    public static string Name(Capability capability) => capability switch
    {
        Capability.NetAdmin => "CAP_NET_ADMIN",
        Capability.NetRaw => "CAP_NET_RAW",
        Capability.SysAdmin => "CAP_SYS_ADMIN",
        Capability.Perfmon => "CAP_PERFMON",
        Capability.Bpf => "CAP_BPF",
        _ => $"capability {(int)capability}",
    };

    /// <summary>The known capabilities held, e.g. <c>CAP_BPF, CAP_NET_RAW</c>.</summary>
    public override string ToString()
    {
        var self = this;
        var held = Known.Where(self.Has).Select(Name).ToList();
        return held.Count == 0 ? $"none of {string.Join(", ", Known.Select(Name))}" : string.Join(", ", held);
    }
}
