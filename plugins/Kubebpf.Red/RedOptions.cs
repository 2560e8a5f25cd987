namespace Kubebpf.Red;

/// <summary>The plugin's configuration section (<c>Plugins:&lt;instance&gt;</c>).</summary>
public sealed class RedOptions
{
    /// <summary>The largest accepted <see cref="MaxSeries"/>; each series holds an 8.4 KB histogram.</summary>
    public const int MaxSeriesLimit = 1_000_000;

    /// <summary>The call log (<c>http_requests</c>).</summary>
    public CallLogOptions CallLog { get; set; } = new();

    /// <summary>Distinct routes kept per workload (namespace, kind, name); further routes become <c>{other}</c>.</summary>
    public int MaxRoutesPerWorkload { get; set; } = 100;

    /// <summary>Route-level R.E.D. series kept at once; exchanges of further series are left out of <c>http_red</c> and counted.</summary>
    public int MaxSeries { get; set; } = 10_000;
}

/// <summary>Options of the call log.</summary>
public sealed class CallLogOptions
{
    /// <summary>Write one <c>http_requests</c> point per exchange.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Store query strings (they often carry tokens and personal data, so off by default).</summary>
    public bool RecordQueryStrings { get; set; }
}
