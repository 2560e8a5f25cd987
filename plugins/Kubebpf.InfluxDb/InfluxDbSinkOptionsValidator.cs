using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace Kubebpf.InfluxDb;

/// <summary>Checks the settings before the sink starts; every message names the setting to fix.</summary>
internal sealed partial class InfluxDbSinkOptionsValidator(string instanceName) : IValidateOptions<InfluxDbSinkOptions>
{
    public ValidateOptionsResult Validate(string? name, InfluxDbSinkOptions options)
    {
        var errors = new List<string>();
        var prefix = $"Plugins:{instanceName}:";
        if (!Uri.TryCreate(options.Url, UriKind.Absolute, out var url) || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps))
        {
            errors.Add($"{prefix}Url must be an absolute http:// or https:// URL (got '{options.Url}').");
        }

        if (options.Timeout <= TimeSpan.Zero)
        {
            errors.Add($"{prefix}Timeout must be positive (got {options.Timeout}).");
        }

        if (options.GzipThresholdBytes < 0)
        {
            errors.Add($"{prefix}GzipThresholdBytes must be 0 or more (got {options.GzipThresholdBytes}).");
        }

        switch (options.ApiVersion)
        {
            case 1:
                ValidateV1(options, prefix, errors);
                break;
            case 2:
                ValidateV2(options, prefix, errors);
                break;
            default:
                errors.Add($"{prefix}ApiVersion must be 1 or 2 (got {options.ApiVersion}).");
                break;
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static void ValidateV1(InfluxDbSinkOptions options, string prefix, List<string> errors)
    {
        if (!InfluxDbSinkOptions.HasText(options.Database))
        {
            errors.Add($"{prefix}Database must be set for InfluxDB 1.x.");
        }

        if (options.CreateDatabase && !InfluxDbSinkOptions.HasText(options.RetentionPolicy))
        {
            errors.Add($"{prefix}RetentionPolicy must be set when CreateDatabase is true (the database is created with it).");
        }

        if (options.CreateDatabase && !InfluxQlDuration().IsMatch(options.RetentionDuration))
        {
            errors.Add($"{prefix}RetentionDuration must be an InfluxQL duration such as 2d, 36h or INF (got '{options.RetentionDuration}').");
        }

        if (InfluxDbSinkOptions.HasText(options.Username) != InfluxDbSinkOptions.HasText(options.Password))
        {
            errors.Add($"{prefix}Username and Password (or {InfluxDbSinkOptions.PasswordEnvironmentVariable}) must be set together.");
        }

        if (InfluxDbSinkOptions.HasText(options.Org) || InfluxDbSinkOptions.HasText(options.Bucket))
        {
            errors.Add($"{prefix}Org and Bucket are InfluxDB 2.x settings, but ApiVersion is 1: remove them or set ApiVersion to 2.");
        }
    }

    private static void ValidateV2(InfluxDbSinkOptions options, string prefix, List<string> errors)
    {
        if (!InfluxDbSinkOptions.HasText(options.Org))
        {
            errors.Add($"{prefix}Org must be set for InfluxDB 2.x.");
        }

        if (!InfluxDbSinkOptions.HasText(options.Bucket))
        {
            errors.Add($"{prefix}Bucket must be set for InfluxDB 2.x.");
        }

        if (!InfluxDbSinkOptions.HasText(options.Token))
        {
            errors.Add($"{prefix}Token (or the environment variable {InfluxDbSinkOptions.TokenEnvironmentVariable}) must be set for InfluxDB 2.x.");
        }
    }

    [GeneratedRegex(@"^(INF|inf|(\d+(ns|u|µ|ms|s|m|h|d|w))+)$")]
    private static partial Regex InfluxQlDuration();
}
