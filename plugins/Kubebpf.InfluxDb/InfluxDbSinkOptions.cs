using System.Text.RegularExpressions;
using Kubebpf.Sdk.Pipeline;

namespace Kubebpf.InfluxDb;

/// <summary>Settings of the InfluxDB sink (configuration section <c>Plugins:&lt;instance&gt;</c>). See README.md.</summary>
public sealed partial class InfluxDbSinkOptions : IValidatedOptions
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

    /// <summary>The configured API version, else the one the other settings imply.</summary>
    private int EffectiveApiVersion => ApiVersion ?? (HasText(Org) || HasText(Bucket) || HasText(Token) ? 2 : 1);

    /// <summary>Fills what configuration left to be inferred: the API version, then secrets from the environment.</summary>
    internal static void ApplyDefaults(InfluxDbSinkOptions options)
    {
        options.ApiVersion = options.EffectiveApiVersion;
        if (options.ApiVersion == 2 && !HasText(options.Token))
        {
            options.Token = Environment.GetEnvironmentVariable(TokenEnvironmentVariable);
        }

        if (options.ApiVersion == 1 && HasText(options.Username) && options.Password is null)
        {
            options.Password = Environment.GetEnvironmentVariable(PasswordEnvironmentVariable);
        }
    }

    /// <inheritdoc />
    /// <remarks>Secrets still to come from the environment count as set when their variable is.</remarks>
    public IEnumerable<string> Validate()
    {
        if (!Uri.TryCreate(Url, UriKind.Absolute, out var url) || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps))
        {
            yield return $"Url must be an absolute http:// or https:// URL (got '{Url}').";
        }

        if (Timeout <= TimeSpan.Zero)
        {
            yield return $"Timeout must be positive (got {Timeout}).";
        }

        if (GzipThresholdBytes < 0)
        {
            yield return $"GzipThresholdBytes must be 0 or more (got {GzipThresholdBytes}).";
        }

        var errors = EffectiveApiVersion switch
        {
            1 => ValidateV1(),
            2 => ValidateV2(),
            _ => [$"ApiVersion must be 1 or 2 (got {ApiVersion})."],
        };
        foreach (var error in errors)
        {
            yield return error;
        }
    }

    private IEnumerable<string> ValidateV1()
    {
        if (!HasText(Database))
        {
            yield return "Database must be set for InfluxDB 1.x.";
        }

        if (CreateDatabase && !HasText(RetentionPolicy))
        {
            yield return "RetentionPolicy must be set when CreateDatabase is true (the database is created with it).";
        }

        if (CreateDatabase && !InfluxQlDuration().IsMatch(RetentionDuration))
        {
            yield return $"RetentionDuration must be an InfluxQL duration such as 2d, 36h or INF (got '{RetentionDuration}').";
        }

        var password = Password ?? (HasText(Username) ? Environment.GetEnvironmentVariable(PasswordEnvironmentVariable) : null);
        if (HasText(Username) != HasText(password))
        {
            yield return $"Username and Password (or {PasswordEnvironmentVariable}) must be set together.";
        }

        if (HasText(Org) || HasText(Bucket))
        {
            yield return "Org and Bucket are InfluxDB 2.x settings, but ApiVersion is 1: remove them or set ApiVersion to 2.";
        }
    }

    private IEnumerable<string> ValidateV2()
    {
        if (!HasText(Org))
        {
            yield return "Org must be set for InfluxDB 2.x.";
        }

        if (!HasText(Bucket))
        {
            yield return "Bucket must be set for InfluxDB 2.x.";
        }

        if (!HasText(Token) && !HasText(Environment.GetEnvironmentVariable(TokenEnvironmentVariable)))
        {
            yield return $"Token (or the environment variable {TokenEnvironmentVariable}) must be set for InfluxDB 2.x.";
        }
    }

    [GeneratedRegex(@"^(INF|inf|(\d+(ns|u|µ|ms|s|m|h|d|w))+)$")]
    private static partial Regex InfluxQlDuration();

    internal static bool HasText(string? value) => !string.IsNullOrWhiteSpace(value);
}
