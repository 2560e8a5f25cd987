using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using Xunit;

namespace Kubebpf.Testing;

/// <summary>One series of a PromQL instant-vector answer: its labels and its value.</summary>
public sealed record PromSample(IReadOnlyDictionary<string, string> Labels, double Value);

/// <summary>
/// A real Prometheus (Debian's 2.42) on a free loopback port with its data in a temporary folder, accepting remote
/// write (<c>--web.enable-remote-write-receiver</c>) and scraping the targets given to <see cref="ScrapeAsync"/> every second
/// (job <see cref="ScrapeJob"/>). Can be stopped and started again on the same data and port (outage tests). Read
/// through the PromQL HTTP API. Use as an xunit class or collection fixture; <see cref="NativeHistogramPrometheusServer"/>
/// is the same with native histograms on.
/// </summary>
public class PrometheusServer : IAsyncLifetime
{
    /// <summary>The <c>job</c> label of scraped series.</summary>
    public const string ScrapeJob = "kubebpf-scrape";

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private readonly LocalServer _server = new("prometheus", "prometheus", TimeSpan.FromSeconds(20));
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(10) };
    private readonly int _port = LoopbackPorts.Free();
    private readonly List<string> _targets = [];
    private readonly string _features;

    /// <summary>A Prometheus without feature flags.</summary>
    public PrometheusServer()
        : this([])
    {
    }

    /// <summary>A Prometheus started with <c>--enable-feature</c> for each of <paramref name="features"/>.</summary>
    protected PrometheusServer(IReadOnlyList<string> features)
    {
        ArgumentNullException.ThrowIfNull(features);
        _features = string.Concat(features.Select(f => $" --enable-feature={f}"));
    }

    /// <summary>The HTTP API, e.g. <c>http://127.0.0.1:41234</c>; stays the same across restarts.</summary>
    public string Url => $"http://127.0.0.1:{_port}";

    /// <summary>Where agents send remote write.</summary>
    public string RemoteWriteUrl => Url + "/api/v1/write";

    private string ConfigPath => Path.Combine(_server.Directory, "prometheus.yml");

    /// <inheritdoc />
    public Task InitializeAsync()
    {
        WriteConfig();
        return StartAsync();
    }

    /// <summary>Adds <paramref name="target"/> (<c>host:port</c>) to the scrape job and reloads the configuration.</summary>
    public async Task ScrapeAsync(string target)
    {
        lock (_targets)
        {
            _targets.Add(target);
            WriteConfig();
        }

        using var reload = await _http.PostAsync(new Uri($"{Url}/-/reload"), null);
        Assert.True(reload.IsSuccessStatusCode, $"Prometheus refused to reload: {(int)reload.StatusCode} {await reload.Content.ReadAsStringAsync()}");
    }

    /// <summary>Starts Prometheus (again) and waits until <c>/-/ready</c> answers 200.</summary>
    /// <exception cref="InvalidOperationException">prometheus is not installed (then the constructor throws), exited, or was not ready in time (its log is in the message).</exception>
    public Task StartAsync()
    {
        return _server.StartAsync(
            $"--config.file='{ConfigPath}' --storage.tsdb.path='{Path.Combine(_server.Directory, "data")}' " +
            $"--web.listen-address=127.0.0.1:{_port} --web.enable-remote-write-receiver --web.enable-lifecycle --query.lookback-delta=5m" + _features,
            _http, new Uri($"{Url}/-/ready"), HttpStatusCode.OK, StartTimeout);
    }

    /// <summary>Stops Prometheus gracefully (SIGTERM, SIGKILL after 20 s); the data stays for <see cref="StartAsync"/>.</summary>
    public void Stop() => _server.Stop();

    /// <summary>Runs a PromQL instant query (at <paramref name="at"/>, default now) and returns its series.</summary>
    /// <exception cref="InvalidOperationException">Prometheus rejected the query; its error is in the message.</exception>
    public async Task<IReadOnlyList<PromSample>> QueryAsync(string promQl, DateTimeOffset? at = null)
    {
        var time = at is { } moment ? "&time=" + (moment.ToUnixTimeMilliseconds() / 1000.0).ToString(CultureInfo.InvariantCulture) : "";
        var uri = new Uri($"{Url}/api/v1/query?query={Uri.EscapeDataString(promQl)}{time}");
        using var response = await _http.GetAsync(uri);
        var body = await response.Content.ReadAsStringAsync();
        using var json = JsonDocument.Parse(body);
        var root = json.RootElement;
        if (root.GetProperty("status").GetString() != "success")
        {
            throw new InvalidOperationException($"Prometheus rejected '{promQl}': {body}");
        }

        var data = root.GetProperty("data");
        var resultType = data.GetProperty("resultType").GetString();
        var result = data.GetProperty("result");
        if (resultType == "scalar")
        {
            return [new PromSample(new Dictionary<string, string>(), Number(result[1]))];
        }

        if (resultType != "vector")
        {
            throw new InvalidOperationException($"'{promQl}' answered a {resultType}; only instant vectors and scalars are read here.");
        }

        return [.. result.EnumerateArray().Select(series => new PromSample(
            series.GetProperty("metric").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!),
            Number(series.GetProperty("value")[1])))];
    }

    /// <summary>
    /// Polls <paramref name="promQl"/> until <paramref name="done"/> holds for its answer or <paramref name="timeout"/>
    /// passed; fails naming the last answer. Returns that answer.
    /// </summary>
    public async Task<IReadOnlyList<PromSample>> WaitForAsync(string promQl, Func<IReadOnlyList<PromSample>, bool> done, string what, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(done);
        var deadline = Stopwatch.StartNew();
        IReadOnlyList<PromSample> last = [];
        while (deadline.Elapsed < timeout)
        {
            last = await QueryAsync(promQl);
            if (done(last))
            {
                return last;
            }

            await Task.Delay(250);
        }

        Assert.Fail($"'{promQl}' did not reach {what} within {timeout}; last answer: {Text(last)}");
        return last;
    }

    /// <summary>Polls <paramref name="promQl"/> until it answers one series of value <paramref name="expected"/>.</summary>
    public Task WaitForValueAsync(string promQl, double expected, TimeSpan timeout) =>
        WaitForAsync(promQl, last => last.Count == 1 && last[0].Value == expected, expected.ToString(CultureInfo.InvariantCulture), timeout);

    /// <summary>Polls a <c>sum by (label)</c> query until its values by that label are exactly <paramref name="expected"/>.</summary>
    public Task WaitForValuesAsync(string promQl, string label, IReadOnlyDictionary<string, double> expected, TimeSpan timeout) =>
        WaitForAsync(
            promQl,
            last => last.Count == expected.Count && last.All(s => s.Labels.TryGetValue(label, out var key) && expected.TryGetValue(key, out var value) && value == s.Value),
            string.Join(", ", expected.OrderBy(e => e.Key, StringComparer.Ordinal).Select(e => $"{e.Key}={e.Value}")),
            timeout);

    /// <summary>An answer as text, for failure messages.</summary>
    public static string Text(IReadOnlyList<PromSample> samples) =>
        samples.Count == 0 ? "no series" : string.Join("; ", samples.Select(s =>
            "{" + string.Join(",", s.Labels.Select(l => $"{l.Key}={l.Value}")) + "} " + s.Value.ToString(CultureInfo.InvariantCulture)));

    /// <inheritdoc />
    public Task DisposeAsync()
    {
        _server.Dispose();
        _http.Dispose();
        return Task.CompletedTask;
    }

    private static double Number(JsonElement value) => double.Parse(value.GetString()!, CultureInfo.InvariantCulture);

    private void WriteConfig()
    {
        var targets = string.Join(", ", _targets.Select(t => $"'{t}'"));
        File.WriteAllText(ConfigPath, $"""
            global:
              scrape_interval: 1s
              scrape_timeout: 1s
              evaluation_interval: 1s
            scrape_configs:
              - job_name: {ScrapeJob}
                static_configs:
                  - targets: [{targets}]
            """);
    }
}
