using System.Globalization;
using System.Runtime.InteropServices;
using System.Xml.Linq;
using Kubebpf.Profiler.Attribution;
using Kubebpf.Profiler.Profiles;
using Kubebpf.Profiler.Sampling;
using Kubebpf.Testing;

namespace Kubebpf.Profiler.Tests;

public sealed class ProfileTests
{
    private static readonly ProfileOwner Pod = new("shop", "checkout", "checkout-7d9f");

    [Fact]
    public void Rows_are_depth_first_and_each_value_is_self_plus_children()
    {
        var root = new FlameNode("total");
        root.Add(["app", "main", "hot_a"], 30);
        root.Add(["app", "main", "hot_b"], 10);
        root.Add(["app", "main"], 5);
        root.Add(["app", "main", "hot_a", "read_[k]"], 2);
        root.Add(["other"], 1);

        var rows = root.Rows();

        Assert.Equal(
        [
            new FlameRow(0, "total", 48, 0), new FlameRow(1, "app", 47, 0), new FlameRow(2, "main", 47, 5),
            new FlameRow(3, "hot_a", 32, 30), new FlameRow(4, "read_[k]", 2, 2), new FlameRow(3, "hot_b", 10, 10),
            new FlameRow(1, "other", 1, 1),
        ], rows);
        FlameRows.AssertConsistent(rows);
    }

    [Fact]
    public void Stacks_past_the_bound_and_outside_the_top_go_to_other_and_are_counted()
    {
        var counts = new StackCounts(maxStacks: 3);
        counts.Add("app;a", 50);
        counts.Add("app;b", 20);
        counts.Add("app;c", 5);
        counts.Add("app;d", 7); // past the bound
        counts.Add("app;a", 1);

        Assert.Equal((83L, 7L), (counts.TotalSamples, counts.FoldedSamples));
        var tree = counts.Tree("total", top: 2, out var folded);
        var rows = tree.Rows();

        Assert.Equal(5, folded); // app;c
        Assert.Equal(83, tree.Value);
        Assert.Equal(12, rows.Single(r => r.Label == StackCounts.OtherFrame).Value);
        Assert.DoesNotContain(rows, r => r.Label == "c" || r.Label == "d");
        FlameRows.AssertConsistent(rows);
    }

    [Fact]
    public void A_window_becomes_rows_that_keep_to_the_contract_in_timestamp_order_then_starts_again()
    {
        var window = new ProfileWindow(maxStacksPerPod: 100, topStacks: 100, topFunctions: 2, node: "node-1");
        window.Add(Pod, ["java", "main", "work"], 9);
        window.Add(Pod, ["java", "main", "work", "work"], 1);
        window.Add(Pod, ["java", "main"], 2);
        window.Add(ProfileOwner.Host, ["sshd", "poll_[k]"], 4);
        var start = new DateTimeOffset(2026, 11, 27, 10, 0, 0, TimeSpan.Zero);

        var points = window.TakePoints(start);

        foreach (var point in points)
        {
            var contract = point.Measurement == ProfilerContract.Profile ? ProfilerContract.ProfileRows : ProfilerContract.FunctionRows;
            Assert.Empty(contract.Violations(point));
        }

        var startNs = start.ToUnixTimeMilliseconds() * 1_000_000;
        var pod = points.Where(p => p.Measurement == ProfilerContract.Profile && p.Tag("pod") == Pod.Pod).ToList();
        Assert.Equal(Enumerable.Range(0, pod.Count).Select(i => startNs + i), pod.Select(p => p.TimestampUnixNs));
        Assert.All(pod, p => Assert.Equal(("shop", "checkout", "2026-11-27T10:00:00Z", "node-1"), (p.Tag("namespace"), p.Tag("workload"), p.Tag("window"), p.Tag("node"))));
        var rows = FlameRows.Of(points, Pod.Pod);
        FlameRows.AssertConsistent(rows);
        Assert.Equal(12, rows[0].Value);
        var host = points.Where(p => p.Tag("pod") == ProfileOwner.HostPod).ToList();
        Assert.All(host, p => Assert.Null(p.Tag("namespace")));

        var functions = points.Where(p => p.Measurement == ProfilerContract.Functions && p.Tag("pod") == Pod.Pod)
            .Select(p => (p.Tag("function"), p.Field("self")!.Value.AsLong, p.Field("total")!.Value.AsLong)).ToList();
        Assert.Equal([("work", 10L, 10L), ("main", 2L, 12L)], functions); // recursion counted once in total

        Assert.Empty(window.TakePoints(start.AddMinutes(1)));
        Assert.Equal(16, window.Run.TotalSamples);
        Assert.Contains("shop/checkout-7d9f;java;main;work", window.Run.Stacks.Keys);
    }

    [Fact]
    public void Frames_with_the_separator_are_folded_safely_and_collapsed_files_round_trip()
    {
        var folded = StackCounts.Fold(["app", "a;b", "void Program::Spin()[Optimized]"]);
        Assert.Equal(["app", "a:b", "void Program::Spin()[Optimized]"], StackCounts.Split(folded));

        var stacks = new Dictionary<string, long> { [folded] = 3, ["app;main"] = 4 };
        var writer = new StringWriter();
        CollapsedStacks.Write(stacks, writer);

        Assert.Equal($"app;a:b;void Program::Spin()[Optimized] 3{Environment.NewLine}app;main 4{Environment.NewLine}", writer.ToString());
        Assert.Equal(stacks, CollapsedStacks.Parse(new StringReader(writer.ToString())));
    }

    [Fact]
    public void The_svg_is_well_formed_and_frame_widths_follow_samples()
    {
        var root = new FlameNode("total");
        root.Add(["app", "main", "hot_a"], 75);
        root.Add(["app", "main", "hot_b"], 25);
        root.Add(["app", "main", "tiny<&>"], 0);
        var writer = new StringWriter();
        FlameGraphSvg.Write(root, "test", writer);

        var svg = XDocument.Parse(writer.ToString());
        XNamespace ns = "http://www.w3.org/2000/svg";
        var frames = svg.Descendants(ns + "g").ToDictionary(
            g => g.Element(ns + "title")!.Value.Split(" (")[0],
            g => double.Parse(g.Element(ns + "rect")!.Attribute("width")!.Value, CultureInfo.InvariantCulture));

        Assert.Equal(["total", "app", "main", "hot_a", "hot_b"], frames.Keys);
        Assert.Equal(3.0, frames["hot_a"] / frames["hot_b"], precision: 2);
        Assert.Equal(frames["total"], frames["main"], precision: 2);
    }

    [Fact]
    public void A_pod_uid_is_found_in_both_kubelet_cgroup_layouts()
    {
        Assert.Equal("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
            ProcessAttributor.PodUid("0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod0f1e2d3c_4b5a_6978_8796_a5b4c3d2e1f0.slice/cri-containerd-abc.scope\n"));
        Assert.Equal("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0", ProcessAttributor.PodUid("4:memory:/kubepods/burstable/pod0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0/abc\n"));
        Assert.Null(ProcessAttributor.PodUid("0::/system.slice/podman.service\n"));
    }

    [Fact]
    public void Options_name_every_bad_value()
    {
        var errors = new ProfilerOptions { Frequency = 0, Interval = TimeSpan.FromSeconds(10), ReadInterval = TimeSpan.FromSeconds(20), TopStacks = 0 }.Validate().ToList();

        Assert.Equal(3, errors.Count);
        Assert.Contains(errors, e => e.Contains(nameof(ProfilerOptions.Frequency), StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains(nameof(ProfilerOptions.ReadInterval), StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains(nameof(ProfilerOptions.TopStacks), StringComparison.Ordinal));
        Assert.Empty(new ProfilerOptions().Validate());
    }

    [Fact]
    public void The_shared_structs_have_the_layout_of_profile_h()
    {
        var directory = Directory.CreateTempSubdirectory("kubebpf-layout-").FullName;
        var c = Path.Combine(directory, "layout.c");
        var exe = Path.Combine(directory, "layout");
        File.WriteAllText(c, """
            #include <stdio.h>
            #include <stddef.h>
            #include <linux/types.h>
            #include "profile.h"
            int main(void)
            {
                printf("key %zu\ncount %zu\nstack %zu\n", sizeof(struct profile_key), sizeof(struct profile_count), sizeof(struct profile_stack));
                printf("pid %zu\ncgroup_id %zu\nkernel_stack %zu\nuser_stack %zu\n", offsetof(struct profile_key, pid),
                    offsetof(struct profile_key, cgroup_id), offsetof(struct profile_key, kernel_stack), offsetof(struct profile_key, user_stack));
                printf("samples %zu\ncomm %zu\nips %zu\ndepth %d\ncounters %d\n", offsetof(struct profile_count, samples),
                    offsetof(struct profile_count, comm), offsetof(struct profile_stack, ips), PROFILE_MAX_DEPTH, PROFILE_COUNTER_MAX);
                printf("stacks_full %d\ncounts_full %d\nidle %d\n", PROFILE_STACKS_FULL, PROFILE_COUNTS_FULL, PROFILE_IDLE);
                return 0;
            }
            """);
        KernelTest.Run("gcc", "-I", Path.Combine(KernelTest.RepositoryRoot, "bpf", "profile"), c, "-o", exe);
        var layout = KernelTest.Run(exe).Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split(' ')).ToDictionary(p => p[0], p => int.Parse(p[1], CultureInfo.InvariantCulture));
        Directory.Delete(directory, recursive: true);

        Assert.Equal((layout["key"], layout["count"], layout["stack"]), (Marshal.SizeOf<ProfileKey>(), Marshal.SizeOf<ProfileCount>(), ProfileAbi.StackSize));
        Assert.Equal(
            (layout["pid"], layout["cgroup_id"], layout["kernel_stack"], layout["user_stack"]),
            ((int)Marshal.OffsetOf<ProfileKey>(nameof(ProfileKey.Pid)), (int)Marshal.OffsetOf<ProfileKey>(nameof(ProfileKey.CgroupId)),
             (int)Marshal.OffsetOf<ProfileKey>(nameof(ProfileKey.KernelStack)), (int)Marshal.OffsetOf<ProfileKey>(nameof(ProfileKey.UserStack))));
        Assert.Equal((layout["samples"], layout["comm"], layout["ips"]), ((int)Marshal.OffsetOf<ProfileCount>(nameof(ProfileCount.Samples)), 8, 8));
        Assert.Equal((layout["depth"], layout["counters"]), (ProfileAbi.MaxDepth, ProfileAbi.CounterCount));
        Assert.Equal((layout["stacks_full"], layout["counts_full"], layout["idle"]), ((int)ProfileAbi.StacksFull, (int)ProfileAbi.CountsFull, (int)ProfileAbi.Idle));
    }
}
