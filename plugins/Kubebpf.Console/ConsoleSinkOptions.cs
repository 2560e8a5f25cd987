namespace Kubebpf.Console;

/// <summary>The plugin's configuration section (<c>Plugins:Console</c>).</summary>
public sealed class ConsoleSinkOptions
{
    /// <summary>The R.E.D. measurement shown as the table.</summary>
    public string RedMeasurement { get; set; } = "http_red";

    /// <summary>The call-log measurement printed line by line when <see cref="ShowCallLog"/> is on.</summary>
    public string CallLogMeasurement { get; set; } = "http_requests";

    /// <summary>The agent's self-metrics measurement, whose loss counters the header shows.</summary>
    public string AgentMeasurement { get; set; } = "kubebpf_agent";

    /// <summary>Also print every call-log point as one line (and stop clearing the screen, so the lines stay visible).</summary>
    public bool ShowCallLog { get; set; }

    /// <summary>The most table rows; the busiest series are kept.</summary>
    public int MaxRows { get; set; } = 30;

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

    /// <summary>Checks the values; the message names the offending key.</summary>
    /// <exception cref="InvalidOperationException">A value is out of range.</exception>
    public void Validate(string section)
    {
        if (MaxRows < 1)
        {
            throw new InvalidOperationException($"{section}:MaxRows must be at least 1 (it is {MaxRows})");
        }

        if (Width < 0)
        {
            throw new InvalidOperationException($"{section}:Width must be 0 (automatic) or a number of columns (it is {Width})");
        }

        foreach (var (key, value) in new[] { ("RedMeasurement", RedMeasurement), ("CallLogMeasurement", CallLogMeasurement), ("AgentMeasurement", AgentMeasurement) })
        {
            if (string.IsNullOrWhiteSpace(value))
            {
                throw new InvalidOperationException($"{section}:{key} must name a measurement");
            }
        }
    }
}
