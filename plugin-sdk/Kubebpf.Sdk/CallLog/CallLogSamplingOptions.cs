namespace Kubebpf.Sdk.CallLog;

/// <summary>
/// The call-log policy of <see cref="CallLogSampler"/>, bound from a plugin's <c>CallLog:Sampling</c> section: errors
/// (any outcome but success) and slow calls (at least <see cref="SlowThreshold"/>) get a point of weight 1 at once, up
/// to <see cref="AtOncePerSecond"/> per second of each class; beyond it the rest of the class is sampled; of the
/// other exchanges, at most <see cref="PerSecond"/> per second are kept. Each budget (workload, direction, protocol)
/// and each class in it samples on its own, a uniform sample of the flush window whose integer weights add up to
/// exactly the exchanges it stands for, so that <c>sum(weight)</c> equals the R.E.D. <c>requests</c>, and the errors'
/// and slow calls' weights their counts.
/// </summary>
public sealed class CallLogSamplingOptions
{
    /// <summary>The largest accepted <see cref="MaxWorkloads"/>.</summary>
    public const int MaxWorkloadsLimit = 100_000;

    /// <summary>The largest accepted <see cref="PerSecond"/> and <see cref="AtOncePerSecond"/>.</summary>
    public const int PerSecondLimit = 1_000_000;

    /// <summary>Sample; false writes a point for every exchange (weight 1).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// Successful exchanges below the slow threshold kept per second of a flush window for each workload (namespace,
    /// kind, name), direction and protocol; 0 keeps errors and slow calls only (then the weights no longer add up).
    /// </summary>
    public int PerSecond { get; set; } = 100;

    /// <summary>
    /// Errors, and apart from them slow calls, of each budget that get their point at once, per second of the flush
    /// window; the further ones of the class are sampled in a reservoir of the same size, written at the window's end
    /// with weights. At most twice this many points per second and class, however many errors or slow calls come.
    /// 0 lifts the bound: every error and slow call gets its point at once.
    /// </summary>
    public int AtOncePerSecond { get; set; } = 100;

    /// <summary>Exchanges at least this long are slow calls: kept at once, as errors are, within <see cref="AtOncePerSecond"/>.</summary>
    public TimeSpan SlowThreshold { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// Budgets (workload, direction, protocol) tracked in one window; the exchanges of further ones share one budget
    /// (their weights still add up over them together), counted as <c>call_log_budget_overflow</c>.
    /// </summary>
    public int MaxWorkloads { get; set; } = 200;

    /// <summary>Settings for some workloads or protocols; the first entry that matches an exchange applies.</summary>
    public List<CallLogSamplingOverride> Overrides { get; set; } = [];

    /// <summary>Every out-of-range value, each as a sentence naming its key under <paramref name="section"/>.</summary>
    /// <param name="section">Where the options sit in the plugin's configuration, e.g. <c>CallLog:Sampling</c>.</param>
    public IEnumerable<string> Validate(string section = "CallLog:Sampling")
    {
        foreach (var error in RateErrors(section, PerSecond, AtOncePerSecond, SlowThreshold))
        {
            yield return error;
        }

        if (MaxWorkloads is < 1 or > MaxWorkloadsLimit)
        {
            yield return $"{section}:MaxWorkloads must be between 1 and {MaxWorkloadsLimit}, got {MaxWorkloads}.";
        }

        for (var i = 0; i < Overrides.Count; i++)
        {
            var entry = Overrides[i];
            var key = $"{section}:Overrides:{i}";
            if (string.IsNullOrWhiteSpace(entry.Workload))
            {
                yield return $"{key}:Workload must be a namespace/name pattern (* and ? as wildcards), got an empty one.";
            }

            foreach (var error in RateErrors(key, entry.PerSecond, entry.AtOncePerSecond, entry.SlowThreshold))
            {
                yield return error;
            }
        }
    }

    private static IEnumerable<string> RateErrors(string key, int? perSecond, int? atOncePerSecond, TimeSpan? slowThreshold)
    {
        if (perSecond is < 0 or > PerSecondLimit)
        {
            yield return $"{key}:PerSecond must be between 0 and {PerSecondLimit}, got {perSecond}.";
        }

        if (atOncePerSecond is < 0 or > PerSecondLimit)
        {
            yield return $"{key}:AtOncePerSecond must be between 0 (no bound) and {PerSecondLimit}, got {atOncePerSecond}.";
        }

        if (slowThreshold <= TimeSpan.Zero)
        {
            yield return $"{key}:SlowThreshold must be positive, got {slowThreshold}.";
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

    /// <summary>Replaces <see cref="CallLogSamplingOptions.AtOncePerSecond"/> for these workloads.</summary>
    public int? AtOncePerSecond { get; set; }

    /// <summary>Replaces <see cref="CallLogSamplingOptions.SlowThreshold"/> for these workloads.</summary>
    public TimeSpan? SlowThreshold { get; set; }
}
