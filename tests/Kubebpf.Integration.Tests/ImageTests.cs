using Kubebpf.Testing;

namespace Kubebpf.Integration.Tests;

/// <summary>
/// The agent image (<c>./build.sh --target=Image</c>) run by podman in the DaemonSet's exact security context against
/// network-namespace pods: the same exact counts as the published agent, readiness only once the capture is attached,
/// and what the container runtime's default seccomp profile does to it.
/// </summary>
[Collection(KernelCollection.Name)]
[Trait("Category", "Kernel")]
public sealed class ImageTests(InfluxDbServer influx)
{
    private static readonly TimeSpan ExitTimeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task In_the_daemonset_posture_every_request_is_logged_once_per_side_and_the_agent_is_ready()
    {
        var container = AgentContainer.Require();
        await using var scenario = AgentScenario.Create(influx);
        using var nginx = PodNginx.Start(scenario.Pods, scenario.Server, TrafficPlan.NginxLocations);
        await scenario.StartAgentAsync(container: container);
        var attached = $"{AgentContainer.HealthDirectory}/attached";
        Poll.Until(() => container.FileExists(attached), $"the readiness file {attached} in the container");

        TrafficPlan.Run(scenario.Client, scenario.Server.IPv4, scenario.WorkDirectory);
        var plan = TrafficPlan.All;
        var served = await nginx.ReadAccessLogAsync(plan.Count, TimeSpan.FromSeconds(10));
        Assert.Equal(TrafficPlan.Sorted(plan), TrafficPlan.Sorted(served.Select(e => new PlannedRequest(e.Method, e.Uri, e.Status))));

        await scenario.WaitForCallLogAsync(2 * plan.Count, TimeSpan.FromSeconds(15));
        Assert.Equal(0, await scenario.StopAgentAsync());

        await scenario.AssertCallLogAsync(plan);
        await scenario.AssertNothingLostAsync(2 * plan.Count);
    }

    [Fact]
    public async Task Under_the_default_seccomp_profile_the_agent_refuses_to_start_naming_seccomp()
    {
        var container = AgentContainer.Require() with { Seccomp = null };
        await using var scenario = AgentScenario.Create(influx);

        using var agent = Start(scenario, container);
        Assert.Equal(3, await agent.WaitForExitAsync(ExitTimeout));
        Assert.Contains("[FAIL] bpf syscall: refused (EPERM) although CAP_BPF is held: this process runs under a seccomp filter", agent.StandardError, StringComparison.Ordinal);
        Assert.Contains("securityContext.seccompProfile.type: Unconfined", agent.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Under_the_default_seccomp_profile_without_the_kernel_check_the_agent_is_never_ready_and_exits_4()
    {
        var container = AgentContainer.Require() with { Seccomp = null };
        await using var scenario = AgentScenario.Create(influx);

        using var agent = Start(scenario, container, ("CheckKernel", false));
        Assert.Equal(4, await agent.WaitForExitAsync(ExitTimeout));
        Assert.Contains("Plugin instance Capture failed while running probe CaptureProbe", agent.StandardError, StringComparison.Ordinal);
        Assert.Contains("EPERM", agent.StandardError, StringComparison.Ordinal);
        Assert.Contains("No probe is running: every probe failed (Capture;", agent.StandardError, StringComparison.Ordinal);
        Assert.Contains("seccompProfile.type: Unconfined", agent.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_in_the_daemonset_posture_asks_only_what_the_configured_probes_need()
    {
        var container = AgentContainer.Require();
        var work = Directory.CreateTempSubdirectory("kubebpf-check-").FullName;
        try
        {
            var config = Path.Combine(work, "kubebpf.json");
            File.WriteAllText(config, """{ "Plugins": { "Capture": { "Interfaces": [ "lo" ] }, "Http": {} } }""");

            var (exit, output) = KernelTest.RunToEnd(container.RunCommand(work, ["check", "--config", config]), ExitTimeout);
            Assert.True(exit == 0, output);
            Assert.Contains("[ok] privileges: CAP_BPF, CAP_NET_RAW held (effective: CAP_BPF, CAP_PERFMON, CAP_NET_RAW)", output, StringComparison.Ordinal);
            Assert.Contains("[ok] bpf syscall: allowed", output, StringComparison.Ordinal);
            Assert.DoesNotContain("bpffs", output, StringComparison.Ordinal);
            Assert.DoesNotContain("tracefs", output, StringComparison.Ordinal);
            Assert.DoesNotContain("root", output, StringComparison.Ordinal);

            // NET_RAW alone, as root inside the container: the capabilities decide, not the user id.
            (exit, output) = KernelTest.RunToEnd((container with { Capabilities = ["NET_RAW"] }).RunCommand(work, ["check", "--config", config]), ExitTimeout);
            Assert.True(exit == 3, output);
            Assert.Contains("[FAIL] privileges: missing CAP_BPF (eBPF programs and maps) in the effective capabilities (CAP_NET_RAW)", output, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    [Fact]
    public void The_image_holds_no_symbols_docs_apt_lists_or_other_platforms_assets()
    {
        // Root that may read every folder (apt's are private to its user), to list them all.
        var container = AgentContainer.Require() with { Capabilities = ["DAC_OVERRIDE"] };
        // Whatever the script finds is printed: an empty output is the pass.
        const string Script =
            "find /opt/kubebpf -name '*.pdb' -o -name '*.xml' -o -path '*/runtimes/win*' -o -path '*/runtimes/osx*' -o -path '*/runtimes/browser*'; " +
            "find /var/lib/apt/lists /var/cache/apt /usr/share/doc /usr/share/man -type f -not -name lock; " +
            "test -f /opt/kubebpf/plugins/Kubebpf.Capture/Kubebpf.Capture.dll || echo 'no capture plugin'";
        var work = Directory.CreateTempSubdirectory("kubebpf-image-").FullName;
        try
        {
            var (exit, output) = KernelTest.RunToEnd(container.RunCommand(work, ["-c", Script], entrypoint: "/bin/sh"), ExitTimeout);

            Assert.True(exit == 0, output);
            Assert.Equal("", output.Trim());
        }
        finally
        {
            Directory.Delete(work);
        }
    }

    private static AgentProcess Start(AgentScenario scenario, AgentContainer container, params (string Key, object Value)[] agentSettings)
    {
        var configuration = new Dictionary<string, object>
        {
            ["Agent"] = agentSettings.ToDictionary(s => s.Key, s => s.Value),
            ["Plugins"] = new { Capture = new { Interfaces = new[] { scenario.Server.HostInterface } }, Http = new { } },
        };
        return AgentProcess.Start(configuration, scenario.WorkDirectory, container);
    }
}
