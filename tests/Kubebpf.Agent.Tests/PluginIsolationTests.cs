using System.Diagnostics;
using Kubebpf.Agent.Plugins;
using Kubebpf.Sdk.Pipeline;
using Kubebpf.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kubebpf.Agent.Tests;

/// <summary>A plugin failing in any phase is stopped and reported; the others keep running.</summary>
public sealed class PluginIsolationTests : IDisposable
{
    private readonly string _pluginRoot = Directory.CreateTempSubdirectory("kubebpf-plugins-").FullName;
    private readonly string _healthDirectory = Path.Combine(Path.GetTempPath(), "kubebpf-health-" + Guid.NewGuid().ToString("N"));

    public PluginIsolationTests()
    {
        // The build output of the faulty plugin, laid out as a drop-in folder: <root>/<Name>/<Name>.dll
        var built = RepositoryPaths.BuildOutput("Kubebpf.FaultyPlugin");
        var target = Directory.CreateDirectory(Path.Combine(_pluginRoot, "Kubebpf.FaultyPlugin")).FullName;
        foreach (var file in Directory.EnumerateFiles(built))
        {
            File.Copy(file, Path.Combine(target, Path.GetFileName(file)));
        }
    }

    [Theory]
    [InlineData("Loading", "loading")]
    [InlineData("Running", "running probe")]
    [InlineData("Flushing", "flushing")]
    [InlineData("Events", "handling Exchange events")]
    public async Task A_failing_instance_is_stopped_and_reported_while_another_keeps_running(string failIn, string expectedPhase)
    {
        await using var runtime = CreateRuntime(new()
        {
            ["Plugins:Broken:Plugin"] = "FaultyPlugin",
            ["Plugins:Broken:FailIn"] = failIn,
            ["Plugins:Healthy:Plugin"] = "Kubebpf.FaultyPlugin",
            ["Plugins:Healthy:Buffer:BufferLimit"] = "10000",
        });
        runtime.Build();
        runtime.Start();

        var broken = runtime.Instances.Single(i => i.InstanceName == "Broken");
        var healthy = runtime.Instances.Single(i => i.InstanceName == "Healthy");
        await WaitUntilAsync(() => broken.State == PluginState.Failed || failIn == "Flushing");
        if (failIn == "Flushing")
        {
            runtime.FlushAll();
        }

        Assert.Equal(PluginState.Failed, broken.State);
        Assert.StartsWith(expectedPhase, broken.Error, StringComparison.Ordinal);
        Assert.Contains("as configured", broken.Error, StringComparison.Ordinal);
        Assert.Equal(PluginState.Running, healthy.State);
        Assert.Equal(1, PluginFailures(runtime));
        await runtime.StopAsync();
        Assert.Equal(PluginState.Stopped, healthy.State);
    }

    [Fact]
    public async Task A_sink_failing_to_write_loses_only_its_own_batches_counted_and_the_other_sinks_get_every_point()
    {
        // A sink exception other than SinkWriteException means "this batch cannot be written" (IPointSink): the pump drops
        // the batch, counts it and logs it, and keeps the sink for the next batch; other sinks have their own pumps.
        await using var runtime = CreateRuntime(new()
        {
            ["Plugins:Broken:Plugin"] = "FaultyPlugin",
            ["Plugins:Broken:FailIn"] = "Writing",
            ["Plugins:Broken:Buffer:FlushInterval"] = "00:00:00.020",
            ["Plugins:Healthy:Plugin"] = "FaultyPlugin",
            ["Plugins:Healthy:Buffer:FlushInterval"] = "00:00:00.020",
        });
        runtime.Build();
        runtime.Start();

        runtime.FlushAll(); // one self-metrics point per component: agent, Broken, Healthy
        await WaitUntilAsync(() => Counter(runtime, "Broken", "write_errors") == 1 && Counter(runtime, "Healthy", "points_written") == 3);

        Assert.Equal(1, Counter(runtime, "Broken", "write_errors"));
        Assert.Equal(3, Counter(runtime, "Broken", "points_dropped_error"));
        Assert.Equal(0, Counter(runtime, "Broken", "points_written"));
        Assert.Equal(3, Counter(runtime, "Healthy", "points_written"));
        Assert.Equal(0, Counter(runtime, "Healthy", "points_dropped_error"));
        Assert.All(runtime.Instances, i => Assert.Equal(PluginState.Running, i.State));
        await runtime.StopAsync();
    }

    [Fact]
    public async Task A_subscriber_that_hangs_is_timed_out_once_and_the_publishers_and_other_subscribers_keep_flowing()
    {
        await using var runtime = CreateRuntime(new()
        {
            ["Agent:SubscriberTimeout"] = "00:00:00.300",
            ["Plugins:Stuck:Plugin"] = "FaultyPlugin",
            ["Plugins:Stuck:HangIn"] = "Events",
            ["Plugins:Stuck:PublishEvery"] = "00:00:00.010",
            ["Plugins:Healthy:Plugin"] = "FaultyPlugin",
            ["Plugins:Healthy:PublishEvery"] = "00:00:00.010",
        });
        runtime.Build();
        runtime.Start();

        // Both probes publish every 10 ms; one subscriber never returns from its first batch.
        await WaitUntilAsync(() => Counter(runtime, "Healthy", "events_received") >= 200);
        await runtime.StopAsync();

        var published = Counter(runtime, "Stuck", "events_published") + Counter(runtime, "Healthy", "events_published");
        Assert.True(published >= 200, $"the probes published only {published} events: the hung subscriber stalled them");
        Assert.Equal(published, Counter(runtime, "Healthy", "events_received"));
        Assert.Equal(1, Counter(runtime, "Stuck", "subscriber_timeouts"));
        Assert.Equal(1, Counter(runtime, "Stuck", "events_received")); // the batch it is stuck in
        Assert.Equal(published - 1, Counter(runtime, "Stuck", "events_dropped_stuck"));
        Assert.Equal(0, Counter(runtime, "Healthy", "events_dropped_stuck"));
        Assert.Equal(0, PluginFailures(runtime));
    }

    [Fact]
    public async Task A_flush_that_hangs_is_timed_out_then_skipped_while_the_others_flush_and_shutdown_completes()
    {
        await using var runtime = CreateRuntime(new()
        {
            ["Agent:FlushTimeout"] = "00:00:00.300",
            ["Agent:ShutdownTimeout"] = "00:00:03",
            ["Plugins:Stuck:Plugin"] = "FaultyPlugin",
            ["Plugins:Stuck:HangIn"] = "Flushing",
            ["Plugins:Healthy:Plugin"] = "FaultyPlugin",
            ["Plugins:Healthy:Buffer:FlushInterval"] = "00:00:00.020",
        });
        runtime.Build();
        runtime.Start();

        var watch = System.Diagnostics.Stopwatch.StartNew();
        runtime.FlushAll();
        runtime.FlushAll();
        var flushing = watch.Elapsed;
        // Each FlushAll writes one self-metrics point per component (agent, Healthy, Stuck) to every sink.
        await WaitUntilAsync(() => Counter(runtime, "Healthy", "points_written") == 6);
        watch.Restart();
        await runtime.StopAsync();
        var stopping = watch.Elapsed;

        Assert.True(flushing < TimeSpan.FromSeconds(2), $"two flushes took {flushing}: the hung one was waited for more than once");
        Assert.True(stopping < TimeSpan.FromSeconds(5), $"shutdown took {stopping} (deadline 3 s)");
        Assert.Equal(1, Counter(runtime, "Stuck", "flush_timeouts"));
        Assert.Equal(2, Counter(runtime, "Stuck", "flushes_skipped")); // the second flush and the final one
        Assert.Equal(9, Counter(runtime, "Healthy", "points_written")); // and the final flush's three
        Assert.Equal(0, PluginFailures(runtime));
    }

    [Fact]
    public async Task A_sink_that_hangs_ignoring_cancellation_is_abandoned_and_shutdown_ends_at_its_deadline_counting_what_it_held()
    {
        await using var runtime = CreateRuntime(new()
        {
            ["Agent:ShutdownTimeout"] = "00:00:02",
            ["Plugins:Stuck:Plugin"] = "FaultyPlugin",
            ["Plugins:Stuck:HangIn"] = "Writing",
            ["Plugins:Stuck:Buffer:FlushInterval"] = "00:00:00.020",
            ["Plugins:Stuck:Buffer:WriteTimeout"] = "00:00:00.300",
            ["Plugins:Healthy:Plugin"] = "FaultyPlugin",
            ["Plugins:Healthy:Buffer:FlushInterval"] = "00:00:00.020",
        });
        runtime.Build();
        runtime.Start();

        runtime.FlushAll();
        await WaitUntilAsync(() => Counter(runtime, "Stuck", "write_timeouts") == 1 && Counter(runtime, "Healthy", "points_written") == 3);
        runtime.FlushAll();
        var watch = System.Diagnostics.Stopwatch.StartNew();
        await runtime.StopAsync();
        var stopping = watch.Elapsed;

        Assert.True(stopping < TimeSpan.FromSeconds(4), $"shutdown took {stopping} (deadline 2 s)");
        Assert.Equal(1, Counter(runtime, "Stuck", "write_timeouts"));
        Assert.Equal(0, Counter(runtime, "Stuck", "points_written"));
        Assert.Equal(9, Counter(runtime, "Stuck", "points_dropped_shutdown")); // three flushes of three components
        Assert.Equal(9, Counter(runtime, "Healthy", "points_written"));
    }

    [Fact]
    public async Task One_plugin_runs_as_several_named_instances_each_with_its_own_configuration()
    {
        await using var runtime = CreateRuntime(new()
        {
            ["Plugins:First:Plugin"] = "FaultyPlugin",
            ["Plugins:First:Marker"] = "11",
            ["Plugins:Second:Plugin"] = "Kubebpf.FaultyPlugin",
            ["Plugins:Second:Marker"] = "22",
            ["Plugins:Kubebpf.FaultyPlugin:Marker"] = "33", // the instance name is the plugin name
        });
        runtime.Build();
        runtime.Start();

        Assert.Equal(["First", "Kubebpf.FaultyPlugin", "Second"], runtime.Instances.Select(i => i.InstanceName).Order(StringComparer.Ordinal));
        Assert.All(runtime.Instances, i => Assert.Equal(PluginState.Running, i.State));
        Assert.Equal(11, Counter(runtime, "First", "marker"));
        Assert.Equal(22, Counter(runtime, "Second", "marker"));
        Assert.Equal(33, Counter(runtime, "Kubebpf.FaultyPlugin", "marker"));
        // One load context per plugin folder, one container and one set of components per instance.
        Assert.Single(runtime.Instances.Select(i => i.Probes[0].GetType()).Distinct());
        Assert.Equal(3, runtime.Instances.Select(i => i.Probes[0]).Distinct().Count());
        await runtime.StopAsync();
    }

    [Fact]
    [Trait("Category", "Kernel")]
    public async Task An_ebpf_object_the_verifier_rejects_fails_its_instance_with_the_verifier_log()
    {
        Assert.True(Environment.IsPrivilegedProcess, "Kernel tests run as root (sudo ./build.sh --target=Test).");
        await using var runtime = CreateRuntime(new()
        {
            ["Plugins:Rejected:Plugin"] = "FaultyPlugin",
            ["Plugins:Rejected:FailIn"] = "Verifier",
            ["Plugins:Healthy:Plugin"] = "FaultyPlugin",
        });
        runtime.Build();
        runtime.Start();

        var rejected = runtime.Instances.Single(i => i.InstanceName == "Rejected");
        await WaitUntilAsync(() => rejected.State == PluginState.Failed);

        Assert.Equal(PluginState.Failed, rejected.State);
        Assert.StartsWith(
            "running probe FaultyComponent: BpfException: bpf_object__load (rejected) failed: EACCES (Permission denied). " +
            "The kernel verifier rejected the program; see the log below." + Environment.NewLine + "Verifier log (end):" + Environment.NewLine,
            rejected.Error, StringComparison.Ordinal);
        // The verifier's own words: the line that names the unchecked dereference.
        Assert.Contains("R0 invalid mem access 'map_value_or_null'", rejected.Error, StringComparison.Ordinal);
        Assert.Equal(PluginState.Running, runtime.Instances.Single(i => i.InstanceName == "Healthy").State);
        Assert.Equal(1, PluginFailures(runtime));
        await runtime.StopAsync();
    }

    [Fact]
    public async Task An_unknown_plugin_name_is_reported_with_what_was_found()
    {
        await using var runtime = CreateRuntime(new() { ["Plugins:Nope:Plugin"] = "DoesNotExist" });
        runtime.Build();

        var instance = Assert.Single(runtime.Instances);
        Assert.Equal(PluginState.NotFound, instance.State);
        Assert.Contains("no plugin folder named 'DoesNotExist'", instance.Error, StringComparison.Ordinal);
        Assert.Contains("found: Kubebpf.FaultyPlugin", instance.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_disabled_instance_is_not_loaded()
    {
        await using var runtime = CreateRuntime(new() { ["Plugins:Off:Plugin"] = "FaultyPlugin", ["Plugins:Off:Enabled"] = "false" });
        runtime.Build();

        Assert.Equal(PluginState.Disabled, Assert.Single(runtime.Instances).State);
    }

    [Fact]
    public void No_configured_plugin_is_a_configuration_error()
    {
        var runtime = CreateRuntime([]);

        var error = Assert.Throws<ConfigurationException>(runtime.Build);
        Assert.Contains("No plugin is configured", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Contract_types_keep_one_identity_across_load_contexts()
    {
        await using var runtime = CreateRuntime(new() { ["Plugins:Healthy:Plugin"] = "FaultyPlugin" });
        runtime.Build();

        var instance = Assert.Single(runtime.Instances);
        Assert.Equal(PluginState.Loaded, instance.State);
        // Resolved through the host's own IProbe/IPointSink types: this only works if the SDK was shared, not copied.
        Assert.Single(instance.Probes);
        Assert.Single(instance.Sinks);
        Assert.Single(instance.Subscriptions);
        Assert.NotEqual(typeof(AgentRuntime).Assembly, instance.Probes[0].GetType().Assembly);
    }

    [Fact]
    public async Task The_readiness_file_is_written_once_every_probe_attached_and_removed_at_shutdown()
    {
        await using var runtime = CreateRuntime(new()
        {
            ["Agent:HealthDirectory"] = _healthDirectory,
            ["Plugins:First:Plugin"] = "FaultyPlugin",
            ["Plugins:Second:Plugin"] = "FaultyPlugin",
        });
        runtime.Build();
        runtime.Start();

        Poll.Until(() => File.Exists(AttachedFile), "the readiness file");
        Assert.Equal(["First", "Second"], File.ReadAllLines(AttachedFile));
        Assert.True(runtime.IsReady);
        await runtime.StopAsync();
        Assert.False(File.Exists(AttachedFile), "the readiness file outlived the agent's shutdown");
        Assert.False(runtime.NoProbeRunning.IsCancellationRequested);
    }

    [Fact]
    public async Task A_probe_that_cannot_attach_keeps_the_agent_unready_while_the_other_probes_run()
    {
        await using var runtime = CreateRuntime(new()
        {
            ["Agent:HealthDirectory"] = _healthDirectory,
            ["Plugins:Broken:Plugin"] = "FaultyPlugin",
            ["Plugins:Broken:FailIn"] = "Attaching",
            ["Plugins:Healthy:Plugin"] = "FaultyPlugin",
        });
        runtime.Build();
        runtime.Start();

        var healthy = (IReportsAttachment)runtime.Instances.Single(i => i.InstanceName == "Healthy").Probes[0];
        Poll.Until(() => PluginFailures(runtime) == 1 && healthy.Attached.IsCompleted, "the broken probe's failure and the healthy probe's attachment");
        Assert.False(runtime.IsReady);
        Assert.False(File.Exists(AttachedFile), "ready although a probe never attached");
        Assert.False(runtime.NoProbeRunning.IsCancellationRequested, "stopped although a probe still runs");
        await runtime.StopAsync();
    }

    [Theory]
    [InlineData("Attaching")]
    [InlineData("Running")]
    public async Task When_every_probe_has_failed_the_agent_is_unready_and_asks_to_stop(string failIn)
    {
        await using var runtime = CreateRuntime(new()
        {
            ["Agent:HealthDirectory"] = _healthDirectory,
            ["Plugins:Broken:Plugin"] = "FaultyPlugin",
            ["Plugins:Broken:FailIn"] = failIn,
            ["Plugins:Off:Plugin"] = "FaultyPlugin",
            ["Plugins:Off:Enabled"] = "false",
        });
        runtime.Build();
        runtime.Start();

        Poll.Until(() => PluginFailures(runtime) == 1, "the probe's failure");
        Assert.True(runtime.NoProbeRunning.IsCancellationRequested);
        Assert.False(runtime.IsReady);
        Assert.False(File.Exists(AttachedFile), "ready although no probe runs");
        await runtime.StopAsync();
    }

    [Fact]
    public async Task The_agent_exits_4_naming_seccomp_when_no_probe_runs()
    {
        var work = Directory.CreateTempSubdirectory("kubebpf-noprobe-").FullName;
        try
        {
            using var agent = AgentProcess.Start(
                new
                {
                    Agent = new { PluginDirectories = new[] { _pluginRoot }, CheckKernel = false },
                    Plugins = new { Broken = new { Plugin = "FaultyPlugin", FailIn = "Attaching" } },
                },
                work);

            Assert.Equal(4, await agent.WaitForExitAsync(TimeSpan.FromSeconds(60)));
            Assert.Contains("No probe is running: every probe failed (Broken;", agent.StandardError, StringComparison.Ordinal);
            Assert.Contains("seccompProfile.type: Unconfined", agent.StandardError, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    [Theory]
    [Trait("Category", "Kernel")]
    [InlineData("-all,+net_raw", 3)]
    [InlineData("+all", 0)]
    public void Check_reads_the_effective_capabilities_and_asks_only_what_the_configured_probes_need(string boundingSet, int expectedExit)
    {
        KernelTest.RequireRoot();
        var agent = Path.Combine(RepositoryPaths.PublishedAgent, "kubebpf");
        var config = Path.Combine(Directory.CreateDirectory(_healthDirectory).FullName, "check.json");
        File.WriteAllText(config, $$"""{ "Agent": { "PluginDirectories": [ "{{_pluginRoot}}" ] }, "Plugins": { "Probe": { "Plugin": "FaultyPlugin" } } }""");
        // Root all along: setpriv only narrows the bounding set, and so what root's capabilities can be after exec.
        var (exit, output) = KernelTest.RunToEnd(
            new ProcessStartInfo("setpriv", ["--bounding-set", boundingSet, "--", agent, "check", "--config", config]), TimeSpan.FromSeconds(60));

        Assert.True(exit == expectedExit, output);
        // The faulty plugin's probe declares no kernel features: no BTF, bpffs or tracefs to check (or mount).
        Assert.DoesNotContain("btf", output, StringComparison.Ordinal);
        Assert.DoesNotContain("bpffs", output, StringComparison.Ordinal);
        Assert.DoesNotContain("tracefs", output, StringComparison.Ordinal);
        Assert.Contains(
            expectedExit == 0
                ? "[ok] privileges: CAP_BPF held (effective: CAP_BPF, CAP_PERFMON, CAP_NET_RAW, CAP_NET_ADMIN, CAP_SYS_ADMIN)"
                : "[FAIL] privileges: missing CAP_BPF (eBPF programs and maps) in the effective capabilities (CAP_NET_RAW)",
            output, StringComparison.Ordinal);
        Assert.Contains(expectedExit == 0 ? "[ok] bpf syscall: allowed" : "[FAIL] bpf syscall: refused (EPERM) without CAP_BPF", output, StringComparison.Ordinal);
    }

    private AgentRuntime CreateRuntime(Dictionary<string, string?> settings)
    {
        settings["Agent:PluginDirectories:0"] = _pluginRoot;
        settings["Agent:CheckKernel"] = "false"; // these probes need nothing from the kernel
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var options = AgentConfiguration.Options(configuration);
        return new AgentRuntime(configuration, options, NullLoggerFactory.Instance, TimeProvider.System, AppContext.BaseDirectory);
    }

    private static long PluginFailures(AgentRuntime runtime) => Counter(runtime, "agent", "plugin_failures");

    private static long Counter(AgentRuntime runtime, string component, string name) =>
        runtime.Metrics.For(component).Read().Single(m => m.Name == name).Value;

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        for (var i = 0; i < 200 && !condition(); i++)
        {
            await Task.Delay(50);
        }
    }

    private string AttachedFile => Path.Combine(_healthDirectory, AgentOptions.AttachedFileName);

    public void Dispose()
    {
        Directory.Delete(_pluginRoot, recursive: true);
        if (Directory.Exists(_healthDirectory))
        {
            Directory.Delete(_healthDirectory, recursive: true);
        }
    }
}
