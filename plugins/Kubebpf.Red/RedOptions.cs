using Kubebpf.Sdk.CallLog;
using Kubebpf.Sdk.Pipeline;

namespace Kubebpf.Red;

/// <summary>The plugin's configuration section (<c>Plugins:&lt;instance&gt;</c>).</summary>
public sealed class RedOptions : IValidatedOptions
{
    /// <summary>The largest accepted <see cref="MaxSeries"/>; each series holds an 8.4 KB histogram.</summary>
    public const int MaxSeriesLimit = 1_000_000;

    /// <summary>The call log (<c>&lt;protocol&gt;_requests</c>).</summary>
    public CallLogOptions CallLog { get; set; } = new();

    /// <summary>
    /// Distinct normalised resources (HTTP routes) kept per workload (namespace, kind, name) and protocol; further
    /// resources become <c>{other}</c>.
    /// </summary>
    public int MaxRoutesPerWorkload { get; set; } = 100;

    /// <summary>Resource-level R.E.D. series kept at once; exchanges of further series are left out of <c>&lt;protocol&gt;_red</c> and counted.</summary>
    public int MaxSeries { get; set; } = 10_000;

    /// <inheritdoc />
    public IEnumerable<string> Validate()
    {
        var seriesValid = MaxSeries is >= 1 and <= MaxSeriesLimit;
        if (!seriesValid)
        {
            yield return $"MaxSeries must be between 1 and {MaxSeriesLimit}, got {MaxSeries}.";
        }

        // A workload cannot use more routes than there are series; compared only against a valid MaxSeries.
        var routesLimit = seriesValid ? MaxSeries : MaxSeriesLimit;
        if (MaxRoutesPerWorkload < 1 || MaxRoutesPerWorkload > routesLimit)
        {
            yield return $"MaxRoutesPerWorkload must be between 1 and MaxSeries ({routesLimit}), got {MaxRoutesPerWorkload}.";
        }

        foreach (var error in CallLog.Sampling.Validate())
        {
            yield return error;
        }
    }
}

/// <summary>Options of the call log.</summary>
public sealed class CallLogOptions
{
    /// <summary>Write the call log (<c>&lt;protocol&gt;_requests</c>); <see cref="Sampling"/> decides which exchanges get a point.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Which exchanges get a point: errors and slow calls (bounded), and a budget of the others, weighted (the SDK's policy, shared with the OTLP sink).</summary>
    public CallLogSamplingOptions Sampling { get; set; } = new();
}
