using Kubebpf.Sdk.Metrics;

namespace MyProbe;

/// <summary>What the plugin writes: registered with the agent (kubebpf plugins lists it) and mirrored by the README.</summary>
public static class ForkContract
{
    public static MeasurementContract ProcessForks { get; } = new(
        "process_forks",
        "forks (new threads included) per command name during one flush window",
        [new TagContract("comm", "the forking process's command name (at most 15 bytes)")],
        [new FieldContract("count", FieldKind.Integer, "", "forks in the window")]);
}
