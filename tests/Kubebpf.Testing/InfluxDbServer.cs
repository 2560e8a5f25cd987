using System.Net;
using System.Text.Json;
using Xunit;

namespace Kubebpf.Testing;

/// <summary>One row of an InfluxQL answer: the series it belongs to and its values by column name.</summary>
/// <param name="Series">The series (measurement) name, or e.g. <c>measurements</c> for SHOW statements.</param>
/// <param name="Tags">The series' tags when the query groups by tag; empty otherwise.</param>
/// <param name="Values">Column name to value; times are integers (nanoseconds) because queries ask for <c>epoch=ns</c>.</param>
public sealed record InfluxRow(string Series, IReadOnlyDictionary<string, string> Tags, IReadOnlyDictionary<string, JsonElement> Values);

/// <summary>
/// A real InfluxDB 1.x server (Debian's <c>influxd</c>) on free loopback ports, with its data in a temporary folder.
/// Can be stopped and started again with the same data (outage tests). Use as an xunit class fixture.
/// </summary>
public sealed class InfluxDbServer : IAsyncLifetime
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);
    private readonly LocalServer _server = new("influxd", "influxdb", TimeSpan.FromSeconds(10));
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(10) };
    private readonly int _httpPort = LoopbackPorts.Free();
    private readonly int _rpcPort = LoopbackPorts.Free();

    /// <summary>The HTTP API, e.g. <c>http://127.0.0.1:41234</c>; stays the same across restarts.</summary>
    public string Url => $"http://127.0.0.1:{_httpPort}";

    private string ConfigPath => Path.Combine(_server.Directory, "influxdb.conf");

    /// <inheritdoc />
    public Task InitializeAsync()
    {
        File.WriteAllText(ConfigPath, Config());
        return StartAsync();
    }

    /// <summary>Starts influxd (again) and waits until <c>/ping</c> answers 204.</summary>
    /// <exception cref="InvalidOperationException">influxd is not installed, exited, or did not answer in time (its log is in the message).</exception>
    public Task StartAsync()
    {
        return _server.StartAsync($"-config '{ConfigPath}'", _http, new Uri($"{Url}/ping"), HttpStatusCode.NoContent, StartTimeout);
    }

    /// <summary>Stops influxd gracefully (SIGTERM, SIGKILL after 10 s); the data stays for <see cref="StartAsync"/>.</summary>
    public void Stop() => _server.Stop();

    /// <summary>Runs an InfluxQL statement (SELECT or SHOW) against <paramref name="database"/> and returns its rows.</summary>
    /// <exception cref="InvalidOperationException">The server answered with an error.</exception>
    public async Task<IReadOnlyList<InfluxRow>> QueryAsync(string database, string influxQl)
    {
        var uri = new Uri($"{Url}/query?epoch=ns&db={Uri.EscapeDataString(database)}&q={Uri.EscapeDataString(influxQl)}");
        using var response = await _http.GetAsync(uri);
        var body = await response.Content.ReadAsStringAsync();
        using var json = JsonDocument.Parse(body);
        var root = json.RootElement;
        if (root.TryGetProperty("error", out var error))
        {
            throw new InvalidOperationException($"InfluxDB rejected '{influxQl}': {error.GetString()}");
        }

        var result = root.GetProperty("results")[0];
        if (result.TryGetProperty("error", out error))
        {
            throw new InvalidOperationException($"InfluxDB rejected '{influxQl}': {error.GetString()}");
        }

        var rows = new List<InfluxRow>();
        if (!result.TryGetProperty("series", out var seriesList))
        {
            return rows;
        }

        foreach (var series in seriesList.EnumerateArray())
        {
            var name = series.TryGetProperty("name", out var n) ? n.GetString()! : "";
            var tags = series.TryGetProperty("tags", out var t)
                ? t.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!)
                : new Dictionary<string, string>();
            var columns = series.GetProperty("columns").EnumerateArray().Select(c => c.GetString()!).ToArray();
            foreach (var values in series.GetProperty("values").EnumerateArray())
            {
                var row = new Dictionary<string, JsonElement>();
                var i = 0;
                foreach (var value in values.EnumerateArray())
                {
                    row[columns[i++]] = value.Clone();
                }

                rows.Add(new InfluxRow(name, tags, row));
            }
        }

        return rows;
    }

    /// <summary>Runs a statement that changes something (CREATE, DROP) with POST, as InfluxDB requires.</summary>
    /// <exception cref="InvalidOperationException">The server answered with an error.</exception>
    public async Task ExecuteAsync(string influxQl)
    {
        using var form = new FormUrlEncodedContent([new KeyValuePair<string, string>("q", influxQl)]);
        using var response = await _http.PostAsync(new Uri($"{Url}/query"), form);
        var body = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode || body.Contains("\"error\"", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"InfluxDB rejected '{influxQl}': {body}");
        }
    }

    /// <summary>The number of points of <paramref name="measurement"/> (counting field <paramref name="field"/>).</summary>
    public async Task<long> CountAsync(string database, string measurement, string field)
    {
        var rows = await QueryAsync(database, $"SELECT COUNT(\"{field}\") FROM \"{measurement}\"");
        return rows.Count == 0 ? 0 : rows[0].Values["count"].GetInt64();
    }

    /// <inheritdoc />
    public Task DisposeAsync()
    {
        _server.Dispose();
        _http.Dispose();
        return Task.CompletedTask;
    }

    private string Config() => $"""
        reporting-disabled = true
        bind-address = "127.0.0.1:{_rpcPort}"

        [meta]
          dir = "{Path.Combine(_server.Directory, "meta")}"

        [data]
          dir = "{Path.Combine(_server.Directory, "data")}"
          wal-dir = "{Path.Combine(_server.Directory, "wal")}"
          query-log-enabled = false

        [monitor]
          store-enabled = false

        [http]
          enabled = true
          bind-address = "127.0.0.1:{_httpPort}"
          log-enabled = false

        [subscriber]
          enabled = false

        [continuous_queries]
          enabled = false

        [[graphite]]
          enabled = false

        [[collectd]]
          enabled = false

        [[opentsdb]]
          enabled = false

        [[udp]]
          enabled = false
        """;
}
