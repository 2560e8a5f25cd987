using System.Runtime.InteropServices;
using Kubebpf.Sdk.Bpf;
using Kubebpf.Testing;

namespace Kubebpf.Sdk.Tests;

[Trait("Category", "Kernel")]
public sealed partial class BpfObjectKernelTests
{
    private const string TracepointSource = """
        #include <linux/bpf.h>
        #include <bpf/bpf_helpers.h>

        const volatile __u32 target_pid = 0;

        struct { __uint(type, BPF_MAP_TYPE_ARRAY); __uint(max_entries, 1); __type(key, __u32); __type(value, __u64); } calls SEC(".maps");
        struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 16); __type(key, __u32); __type(value, __u64); } table SEC(".maps");

        SEC("tracepoint/syscalls/sys_enter_getpid")
        int on_getpid(void *ctx)
        {
            if ((bpf_get_current_pid_tgid() >> 32) != target_pid)
                return 0;
            __u32 key = 0;
            __u64 *value = bpf_map_lookup_elem(&calls, &key);
            if (value)
                __sync_fetch_and_add(value, 1);
            return 0;
        }

        char LICENSE[] SEC("license") = "GPL";
        """;

    private const string RejectedSource = """
        #include <linux/bpf.h>
        #include <bpf/bpf_helpers.h>

        SEC("socket")
        int reads_past_the_context(struct __sk_buff *skb)
        {
            return *(int *)((char *)skb + 4000);
        }

        char LICENSE[] SEC("license") = "GPL";
        """;

    [Fact]
    public void Requirements_for_tracepoints_are_met_as_root_mounting_tracefs_when_missing()
    {
        KernelTest.RequireRoot();

        var report = KernelRequirements.Check(KernelFeatures.Btf | KernelFeatures.BpfFs | KernelFeatures.TraceFs);

        Assert.True(report.AllOk, report.ToString());
        report.ThrowIfUnmet();
        Assert.Equal(["privileges", "memlock", "bpf syscall", "btf", "bpffs", "tracefs"], report.Checks.Select(c => c.Name));
    }

    [Fact]
    public void A_tracepoint_program_counts_this_process_getpid_calls_with_a_rodata_filter()
    {
        KernelTest.RequireRoot();
        KernelRequirements.Check(KernelFeatures.TraceFs).ThrowIfUnmet();
        var logger = new ListLogger();
        using var obj = BpfObject.OpenFile(KernelTest.CompileBpf(TracepointSource), logger);
        obj.SetReadOnlyVariable("target_pid", (uint)Environment.ProcessId);
        obj.Load();

        using (obj.Program("on_getpid").AttachTracepoint("syscalls", "sys_enter_getpid"))
        {
            for (var i = 0; i < 5; i++)
            {
                getpid();
            }
        }

        getpid(); // detached: not counted
        Span<byte> value = stackalloc byte[8];
        Assert.True(obj.Map("calls").Lookup(BitConverter.GetBytes(0u), value));
        Assert.Equal(5UL, BitConverter.ToUInt64(value));
    }

    [Fact]
    public void Hash_map_update_lookup_iterate_and_delete()
    {
        KernelTest.RequireRoot();
        using var obj = BpfObject.OpenFile(KernelTest.CompileBpf(TracepointSource), new ListLogger());
        obj.Load();
        var table = obj.Map("table");
        Assert.Equal((4, 8, 16u), (table.KeySize, table.ValueSize, table.MaxEntries));

        foreach (var k in new uint[] { 1, 2, 3 })
        {
            table.Update(BitConverter.GetBytes(k), BitConverter.GetBytes(k * 100UL));
        }

        var keys = new List<uint>();
        Span<byte> key = stackalloc byte[4];
        for (var more = table.GetNextKey([], key); more; more = table.GetNextKey(key.ToArray(), key))
        {
            keys.Add(BitConverter.ToUInt32(key));
        }

        Span<byte> value = stackalloc byte[8];
        Assert.Equal([1u, 2u, 3u], keys.Order());
        Assert.True(table.Lookup(BitConverter.GetBytes(2u), value));
        Assert.Equal(200UL, BitConverter.ToUInt64(value));
        Assert.True(table.Delete(BitConverter.GetBytes(2u)));
        Assert.False(table.Delete(BitConverter.GetBytes(2u)));
        Assert.False(table.Lookup(BitConverter.GetBytes(2u), value));
    }

    [Fact]
    public void A_verifier_rejection_throws_with_the_verifier_log_and_logs_through_ILogger()
    {
        KernelTest.RequireRoot();
        var logger = new ListLogger();
        using var obj = BpfObject.OpenFile(KernelTest.CompileBpf(RejectedSource), logger);

        var e = Assert.Throws<BpfException>(obj.Load);

        Assert.Equal("bpf_object__load", e.Call);
        Assert.NotNull(e.VerifierLog);
        Assert.Contains("invalid bpf_context access", e.Message, StringComparison.Ordinal);
        Assert.Contains(logger.Entries, entry => entry.Message.Contains("BEGIN PROG LOAD LOG", StringComparison.Ordinal));
    }

    [Fact]
    public void Configuring_after_load_or_naming_an_unknown_variable_fails_clearly()
    {
        KernelTest.RequireRoot();
        using var obj = BpfObject.OpenFile(KernelTest.CompileBpf(TracepointSource), new ListLogger());

        Assert.Throws<ArgumentException>(() => obj.SetReadOnlyVariable("no_such_variable", 1u));
        Assert.Throws<ArgumentException>(() => obj.SetReadOnlyVariable("target_pid", [1, 2]));
        Assert.Throws<BpfException>(() => obj.Map("no_such_map"));
        obj.Load();
        Assert.Throws<InvalidOperationException>(() => obj.SetReadOnlyVariable("target_pid", 1u));
    }

    [LibraryImport("libc")]
    private static partial int getpid();
}
