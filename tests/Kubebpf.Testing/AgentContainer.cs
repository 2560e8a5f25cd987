using System.Diagnostics;
using Xunit;

namespace Kubebpf.Testing;

/// <summary>
/// The agent image run with podman in the DaemonSet's security context (the agent manifest of deploy/): host network
/// and PID, read-only root filesystem, every capability dropped but BPF, NET_RAW, PERFMON, SYS_NICE and SYS_PTRACE, no privilege
/// escalation, seccomp unconfined, memory-backed <c>/run/kubebpf</c> and <c>/tmp</c>. The test's work directory is
/// mounted read-only at the same path, so that the configuration's paths mean the same inside and out.
/// </summary>
public sealed record AgentContainer
{
    /// <summary>What the DaemonSet adds after dropping ALL.</summary>
    public static readonly IReadOnlyList<string> DaemonSetCapabilities = ["BPF", "NET_RAW", "PERFMON", "SYS_NICE", "SYS_PTRACE"];

    /// <summary>Where the DaemonSet's readiness files live (an emptyDir in the pod, a tmpfs here).</summary>
    public const string HealthDirectory = "/run/kubebpf";

    private AgentContainer(string image) => Image = image;

    /// <summary>The image: <c>KUBEBPF_AGENT_IMAGE</c>, else what <c>./build.sh --target=Image</c> builds.</summary>
    public string Image { get; }

    /// <summary>A unique container name, so that runs side by side never collide.</summary>
    public string Name { get; } = "kubebpf-test-" + Guid.NewGuid().ToString("N")[..10];

    /// <summary>The capabilities added after dropping all of them.</summary>
    public IReadOnlyList<string> Capabilities { get; init; } = DaemonSetCapabilities;

    /// <summary>The seccomp profile: <c>unconfined</c> as the DaemonSet sets it, or null for podman's default profile.</summary>
    public string? Seccomp { get; init; } = "unconfined";

    /// <summary>
    /// The image, after checking that podman and the image are there: fails (never skips) otherwise, since
    /// <c>./build.sh</c> installs podman and the Test target builds the image first.
    /// </summary>
    public static AgentContainer Require()
    {
        KernelTest.RequireRoot();
        var image = Environment.GetEnvironmentVariable("KUBEBPF_AGENT_IMAGE") is { Length: > 0 } named ? named : "localhost/kubebpf/agent:dev";
        try
        {
            KernelTest.Run("podman", "image", "exists", image);
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            Assert.Fail($"The agent image {image} is missing or podman is not installed: run ./build.sh --target=Image ({e.Message.Trim()}).");
        }

        return new AgentContainer(image);
    }

    /// <summary>
    /// <c>podman run</c> of the image with <paramref name="agentArguments"/> (e.g. <c>run --config FILE</c>), given to the
    /// agent or to <paramref name="entrypoint"/> instead.
    /// </summary>
    public ProcessStartInfo RunCommand(string workDirectory, IEnumerable<string> agentArguments, string? entrypoint = null)
    {
        var start = new ProcessStartInfo("podman") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        string[] arguments =
        [
            "run", "--rm", "--name", Name, "--runtime", "runc",
            "--network", "host", "--pid", "host", "--read-only",
            // Podman's default limits (a million files) exceed what runc may set on these machines: ask for fewer.
            "--ulimit", "nofile=16384:16384", "--ulimit", "nproc=32768:32768",
            "--cap-drop", "ALL", .. Capabilities.SelectMany(c => new[] { "--cap-add", c }),
            "--security-opt", "no-new-privileges", .. Seccomp is null ? [] : new[] { "--security-opt", $"seccomp={Seccomp}" },
            "--tmpfs", HealthDirectory, "--tmpfs", "/tmp",
            "--volume", $"{workDirectory}:{workDirectory}:ro",
            .. entrypoint is null ? [] : new[] { "--entrypoint", entrypoint },
            Image, .. agentArguments,
        ];
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        return start;
    }

    /// <summary>Whether <paramref name="file"/> exists inside the running container (what an exec readiness probe tests).</summary>
    public bool FileExists(string file)
    {
        using var process = Process.Start("podman", ["exec", Name, "test", "-f", file]);
        process.WaitForExit();
        return process.ExitCode == 0;
    }

    /// <summary>Removes the container if it is still there (after a test that failed half-way).</summary>
    public void Remove()
    {
        using var process = Process.Start(new ProcessStartInfo("podman", ["rm", "--force", "--ignore", Name]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        process.WaitForExit();
    }
}
