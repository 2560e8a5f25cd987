using System.Net;
using Kubebpf.Sdk.Pipeline;

namespace Kubebpf.Prometheus;

/// <summary>The plugin's configuration section (<c>Plugins:&lt;instance&gt;</c>, instance name <c>Prometheus</c>).</summary>
public sealed class PrometheusOptions : IValidatedOptions
{
    /// <summary>The largest accepted <see cref="MaxSeries"/>.</summary>
    public const int MaxSeriesLimit = 1_000_000;

    /// <summary>
    /// <c>host:port</c> of the scrape endpoint (path <c>/metrics</c>); <c>0.0.0.0</c> or <c>[::]</c> listens on every
    /// address. Empty: no scrape endpoint (remote write only). 9464 is the port OpenTelemetry's Prometheus exporters use.
    /// </summary>
    public string ListenAddress { get; set; } = "0.0.0.0:9464";

    /// <summary>Label sets (series) held at once across all metrics; samples of further label sets are dropped and counted.</summary>
    public int MaxSeries { get; set; } = 10_000;

    /// <summary>Distinct normalised resources (HTTP routes) per workload and protocol; further ones become <c>{other}</c>.</summary>
    public int MaxRoutesPerWorkload { get; set; } = 100;

    /// <summary>A series without a new sample for this long is removed (and its counters start again at zero if it returns).</summary>
    public TimeSpan SeriesIdleTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// Measurements of other plugins that are not turned into gauges. Every protocol's call log and R.E.D. measurement
    /// (the exchanges are counted here directly) and the profiler's stacks are left out anyway.
    /// </summary>
    public string[] ExcludeMeasurements { get; set; } = [];

    /// <summary>Remote write; off while <see cref="RemoteWriteOptions.Url"/> is empty.</summary>
    public RemoteWriteOptions RemoteWrite { get; set; } = new();

    /// <summary>The parsed <see cref="ListenAddress"/>, or null when the endpoint is off. A method, not a property, so that no configuration key binds to it.</summary>
    internal (string Host, int Port)? ListenEndpoint() => TryParseListen(ListenAddress, out var listen) ? listen : null;

    /// <inheritdoc />
    public IEnumerable<string> Validate()
    {
        if (!string.IsNullOrEmpty(ListenAddress) && !TryParseListen(ListenAddress, out _))
        {
            yield return $"ListenAddress must be host:port (0.0.0.0:9464, [::]:9464, 127.0.0.1:9464) or empty, got '{ListenAddress}'.";
        }

        if (MaxSeries is < 1 or > MaxSeriesLimit)
        {
            yield return $"MaxSeries must be between 1 and {MaxSeriesLimit}, got {MaxSeries}.";
        }

        if (MaxRoutesPerWorkload < 1 || MaxRoutesPerWorkload > Math.Max(MaxSeries, 1))
        {
            yield return $"MaxRoutesPerWorkload must be between 1 and MaxSeries, got {MaxRoutesPerWorkload}.";
        }

        if (SeriesIdleTimeout < TimeSpan.FromSeconds(1))
        {
            yield return $"SeriesIdleTimeout must be at least one second, got {SeriesIdleTimeout}.";
        }

        foreach (var error in RemoteWrite.Validate())
        {
            yield return "RemoteWrite:" + error;
        }
    }

    private static bool TryParseListen(string text, out (string Host, int Port) listen)
    {
        listen = default;
        var colon = text.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(text.AsSpan(colon + 1), out var port) || port is < 0 or > 65535)
        {
            return false;
        }

        var host = text[..colon];
        var bare = host.StartsWith('[') && host.EndsWith(']') ? host[1..^1] : host;
        if (!IPAddress.TryParse(bare, out _) && Uri.CheckHostName(bare) != UriHostNameType.Dns)
        {
            return false;
        }

        listen = (host, port);
        return true;
    }
}

/// <summary>Options of remote write.</summary>
public sealed class RemoteWriteOptions
{
    /// <summary>The receiver, e.g. <c>http://prometheus:9090/api/v1/write</c>; empty turns remote write off.</summary>
    public string Url { get; set; } = string.Empty;

    /// <summary>Basic auth user name (with <see cref="Password"/>).</summary>
    public string Username { get; set; } = string.Empty;

    /// <summary>Basic auth password; from an environment variable in a DaemonSet.</summary>
    public string Password { get; set; } = string.Empty;

    /// <summary>Bearer token (exclusive with basic auth); from an environment variable in a DaemonSet.</summary>
    public string BearerToken { get; set; } = string.Empty;

    /// <summary>How often the current totals are taken and queued as one write request.</summary>
    public TimeSpan SendInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>The timeout of one HTTP request.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The longest wait between retries of a failed request (the wait doubles from one second; Retry-After may ask for more).</summary>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Whether histograms are also sent as native histograms (schema 3), beside their classic series. Off by default:
    /// a receiver without native histograms (Prometheus 2.42 without <c>--enable-feature=native-histograms</c>) answers
    /// such a request with 500, and the request would be retried until dropped.
    /// </summary>
    public bool NativeHistograms { get; set; }

    /// <summary>Compressed requests kept while the receiver is down; the oldest are dropped and counted beyond this.</summary>
    public long MaxBufferBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>
    /// Labels added to every remote-written series that lacks them. <c>job</c> (default <c>kubebpf</c>) and
    /// <c>instance</c> (default: the host name, the pod name in a DaemonSet) keep several agents' series apart.
    /// </summary>
    public Dictionary<string, string> ExternalLabels { get; set; } = [];

    /// <summary>Whether remote write is on (a method, so that no configuration key binds to it).</summary>
    internal bool IsEnabled() => !string.IsNullOrEmpty(Url);

    internal IEnumerable<string> Validate()
    {
        if (!IsEnabled())
        {
            if (NativeHistograms)
            {
                yield return "NativeHistograms is set but Url is empty: native histograms go by remote write (a scraper asking for protobuf gets them anyway).";
            }

            yield break;
        }

        if (!Uri.TryCreate(Url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            yield return $"Url must be an absolute http or https URL, got '{Url}'.";
        }

        if (!string.IsNullOrEmpty(BearerToken) && (!string.IsNullOrEmpty(Username) || !string.IsNullOrEmpty(Password)))
        {
            yield return "BearerToken and Username/Password are exclusive: set one way to authenticate.";
        }

        if (string.IsNullOrEmpty(Username) && !string.IsNullOrEmpty(Password))
        {
            yield return "Password is set without Username.";
        }

        if (SendInterval < TimeSpan.FromMilliseconds(100))
        {
            yield return $"SendInterval must be at least 100 ms, got {SendInterval}.";
        }

        if (Timeout <= TimeSpan.Zero)
        {
            yield return $"Timeout must be positive, got {Timeout}.";
        }

        if (MaxRetryDelay < TimeSpan.FromSeconds(1))
        {
            yield return $"MaxRetryDelay must be at least one second, got {MaxRetryDelay}.";
        }

        if (MaxBufferBytes < 1024)
        {
            yield return $"MaxBufferBytes must be at least 1024, got {MaxBufferBytes}.";
        }
    }
}
