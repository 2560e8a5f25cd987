namespace Kubebpf.InfluxDb;

/// <summary>Settings of the InfluxDB sink (configuration section <c>Plugins:&lt;instance&gt;</c>). See README.md.</summary>
public sealed class InfluxDbSinkOptions
{
    /// <summary>Environment variable read when <see cref="Token"/> is not configured (2.x).</summary>
    public const string TokenEnvironmentVariable = "KUBEBPF_INFLUX_TOKEN";

    /// <summary>Environment variable read when <see cref="Username"/> is set and <see cref="Password"/> is not (1.x).</summary>
    public const string PasswordEnvironmentVariable = "KUBEBPF_INFLUX_PASSWORD";

    /// <summary>Base URL of the HTTP API, e.g. <c>http://influxdb:8086</c>; a path prefix (reverse proxy) is kept.</summary>
    public string Url { get; set; } = "http://localhost:8086";

    /// <summary>1 (<c>/write</c>, InfluxQL) or 2 (<c>/api/v2/write</c>). When not set: 2 if Org, Bucket or Token is configured, else 1.</summary>
    public int? ApiVersion { get; set; }

    /// <summary>1.x: the database written to.</summary>
    public string Database { get; set; } = "kubebpf";

    /// <summary>1.x: the retention policy written to (and created with the database); empty writes to the database's default policy.</summary>
    public string RetentionPolicy { get; set; } = "kubebpf_2d";

    /// <summary>1.x: how long the created retention policy keeps data, as an InfluxQL duration (<c>2d</c>, <c>36h</c>, <c>INF</c>).</summary>
    public string RetentionDuration { get; set; } = "2d";

    /// <summary>1.x: create the database and retention policy at the first write, and again when the server says the database is missing.</summary>
    public bool CreateDatabase { get; set; } = true;

    /// <summary>1.x: user for basic authentication; none when empty.</summary>
    public string? Username { get; set; }

    /// <summary>1.x: password for basic authentication (or the environment variable <c>KUBEBPF_INFLUX_PASSWORD</c>).</summary>
    public string? Password { get; set; }

    /// <summary>2.x: organization name or ID.</summary>
    public string? Org { get; set; }

    /// <summary>2.x: bucket name.</summary>
    public string? Bucket { get; set; }

    /// <summary>2.x: API token with write permission on the bucket (or the environment variable <c>KUBEBPF_INFLUX_TOKEN</c>).</summary>
    public string? Token { get; set; }

    /// <summary>How long one write (or the database creation) may take before it counts as failed and is retried.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Request bodies of at least this many bytes are sent gzip-compressed; 0 compresses every body.</summary>
    public int GzipThresholdBytes { get; set; } = 16 * 1024;

    /// <summary>Fills what configuration left to be inferred: the API version, then secrets from the environment.</summary>
    internal static void ApplyDefaults(InfluxDbSinkOptions options)
    {
        options.ApiVersion ??= HasText(options.Org) || HasText(options.Bucket) || HasText(options.Token) ? 2 : 1;
        if (options.ApiVersion == 2 && !HasText(options.Token))
        {
            options.Token = Environment.GetEnvironmentVariable(TokenEnvironmentVariable);
        }

        if (options.ApiVersion == 1 && HasText(options.Username) && options.Password is null)
        {
            options.Password = Environment.GetEnvironmentVariable(PasswordEnvironmentVariable);
        }
    }

    internal static bool HasText(string? value) => !string.IsNullOrWhiteSpace(value);
}
