using Kubebpf.Sdk.Pipeline;

namespace Kubebpf.Console;

/// <summary>The plugin's configuration section (<c>Plugins:Console</c>).</summary>
public sealed class ConsoleSinkOptions : IValidatedOptions
{
    /// <summary>The agent's self-metrics measurement, whose loss counters the header shows.</summary>
    public string AgentMeasurement { get; set; } = "kubebpf_agent";

    /// <summary>
    /// Also print every call-log point (every <c>&lt;protocol&gt;_requests</c> measurement) as one line, and stop
    /// clearing the screen, so the lines stay visible.
    /// </summary>
    public bool ShowCallLog { get; set; }

    /// <summary>The most R.E.D. table rows; the busiest series are kept.</summary>
    public int MaxRows { get; set; } = 30;

    /// <summary>The most series of other measurements (a custom probe's, say) shown with their latest values; 0 hides them.</summary>
    public int MaxOtherSeries { get; set; } = 20;

    /// <summary>On a terminal, redraw the table in place; otherwise each table is printed below the previous one.</summary>
    public bool ClearScreen { get; set; } = true;

    /// <summary>Output width in columns; 0 takes the terminal's width, or 160 when the output is not a terminal.</summary>
    public int Width { get; set; }

    /// <summary>The default <see cref="LossCounterKeywords"/>.</summary>
    public static IReadOnlyList<string> DefaultLossCounterKeywords { get; } =
        ["drop", "desync", "evict", "overflow", "lost", "unmatched", "truncat", "error", "fail"];

    /// <summary>
    /// Agent counters whose names contain one of these are shown in the header when above zero; null for the defaults.
    /// (Null rather than a default array: the configuration binder appends to an existing array instead of replacing it.)
    /// </summary>
    public string[]? LossCounterKeywords { get; set; }

    /// <inheritdoc />
    public IEnumerable<string> Validate()
    {
        if (MaxRows < 1)
        {
            yield return $"MaxRows must be at least 1, got {MaxRows}.";
        }

        if (MaxOtherSeries < 0)
        {
            yield return $"MaxOtherSeries must be 0 (hidden) or more, got {MaxOtherSeries}.";
        }

        if (Width < 0)
        {
            yield return $"Width must be 0 (automatic) or a number of columns, got {Width}.";
        }

        if (string.IsNullOrWhiteSpace(AgentMeasurement))
        {
            yield return "AgentMeasurement must name a measurement.";
        }
    }
}
