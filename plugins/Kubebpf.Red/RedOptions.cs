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

    /// <summary>Which exchanges get a point: every error and slow call, and a budget of the others, weighted.</summary>
    public CallLogSamplingOptions Sampling { get; set; } = new();
}

/// <summary>
/// The call-log policy: every exchange that failed (any outcome but success) or took at least
/// <see cref="SlowThreshold"/> gets a point of weight 1; of the others, at most <see cref="PerSecond"/> per second of
/// each workload, direction and protocol are kept, a uniform sample of the flush window, each with the integer weight
/// of the exchanges it stands for, so that <c>sum(weight)</c> equals the R.E.D. <c>requests</c>.
/// </summary>
public sealed class CallLogSamplingOptions
{
    /// <summary>The largest accepted <see cref="MaxWorkloads"/>.</summary>
    public const int MaxWorkloadsLimit = 100_000;

    /// <summary>The largest accepted <see cref="PerSecond"/>.</summary>
    public const int PerSecondLimit = 1_000_000;

    /// <summary>Sample; false writes a point for every exchange (weight 1).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// Successful exchanges below the slow threshold kept per second of a flush window for each workload (namespace,
    /// kind, name), direction and protocol; 0 keeps errors and slow calls only (then the weights no longer add up).
    /// </summary>
    public int PerSecond { get; set; } = 100;

    /// <summary>Exchanges at least this long are all kept, as errors are.</summary>
    public TimeSpan SlowThreshold { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// Budgets (workload, direction, protocol) tracked in one window; the exchanges of further ones share one budget
    /// (their weights still add up over them together), counted as <c>call_log_budget_overflow</c>.
    /// </summary>
    public int MaxWorkloads { get; set; } = 200;

    /// <summary>Settings for some workloads or protocols; the first entry that matches an exchange applies.</summary>
    public List<CallLogSamplingOverride> Overrides { get; set; } = [];

    /// <summary>Every out-of-range value, each as a sentence naming its key.</summary>
    public IEnumerable<string> Validate()
    {
        if (PerSecond is < 0 or > PerSecondLimit)
        {
            yield return $"CallLog:Sampling:PerSecond must be between 0 and {PerSecondLimit}, got {PerSecond}.";
        }

        if (SlowThreshold <= TimeSpan.Zero)
        {
            yield return $"CallLog:Sampling:SlowThreshold must be positive, got {SlowThreshold}.";
        }

        if (MaxWorkloads is < 1 or > MaxWorkloadsLimit)
        {
            yield return $"CallLog:Sampling:MaxWorkloads must be between 1 and {MaxWorkloadsLimit}, got {MaxWorkloads}.";
        }

        for (var i = 0; i < Overrides.Count; i++)
        {
            var entry = Overrides[i];
            var key = $"CallLog:Sampling:Overrides:{i}";
            if (string.IsNullOrWhiteSpace(entry.Workload))
            {
                yield return $"{key}:Workload must be a namespace/name pattern (* and ? as wildcards), got an empty one.";
            }

            if (entry.PerSecond is < 0 or > PerSecondLimit)
            {
                yield return $"{key}:PerSecond must be between 0 and {PerSecondLimit}, got {entry.PerSecond}.";
            }

            if (entry.SlowThreshold <= TimeSpan.Zero)
            {
                yield return $"{key}:SlowThreshold must be positive, got {entry.SlowThreshold}.";
            }
        }
    }
}

/// <summary>Call-log settings for the workloads (and optionally the protocol) an entry matches; unset values come from the defaults.</summary>
public sealed class CallLogSamplingOverride
{
    /// <summary>
    /// <c>namespace/name</c> of the workload, <c>*</c> and <c>?</c> as wildcards (<c>payments/*</c>, <c>*/checkout</c>);
    /// an exchange whose workload does not resolve matches as <c>unknown</c>; <c>*</c> matches everything.
    /// </summary>
    public string Workload { get; set; } = "*";

    /// <summary>The protocol's name (<c>http</c>, <c>dns</c>, <c>mysql</c>), or null for every protocol.</summary>
    public string? Protocol { get; set; }

    /// <summary>Replaces <see cref="CallLogSamplingOptions.PerSecond"/> for these workloads.</summary>
    public int? PerSecond { get; set; }

    /// <summary>Replaces <see cref="CallLogSamplingOptions.SlowThreshold"/> for these workloads.</summary>
    public TimeSpan? SlowThreshold { get; set; }
}
