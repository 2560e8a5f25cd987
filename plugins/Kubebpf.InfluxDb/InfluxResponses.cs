using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Kubebpf.InfluxDb;

/// <summary>Reading InfluxDB's answers: <c>Retry-After</c>, error bodies, and how many points a 400 rejected.</summary>
internal static partial class InfluxResponses
{
    /// <summary>A <c>Retry-After</c> value: delay in seconds, or an HTTP date (then relative to <paramref name="now"/>).</summary>
    public static TimeSpan? ParseRetryAfter(string? value, DateTimeOffset now)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        if (long.TryParse(value.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
        {
            return TimeSpan.FromSeconds(seconds);
        }

        if (DateTimeOffset.TryParseExact(value.Trim(), "r", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var date))
        {
            return date > now ? date - now : TimeSpan.Zero;
        }

        return null;
    }

    /// <summary>The message of an error body (<c>{"error": ...}</c> in 1.x, <c>{"code":..., "message": ...}</c> in 2.x), else the body itself.</summary>
    public static string ErrorMessage(string body)
    {
        try
        {
            using var json = JsonDocument.Parse(body);
            if (json.RootElement.ValueKind == JsonValueKind.Object)
            {
                foreach (var name in (ReadOnlySpan<string>)["error", "message"])
                {
                    if (json.RootElement.TryGetProperty(name, out var message) && message.ValueKind == JsonValueKind.String)
                    {
                        return message.GetString()!;
                    }
                }
            }
        }
        catch (JsonException)
        {
            // not JSON: the body is the message
        }

        return body.Trim();
    }

    /// <summary>The error of the first statement of a 200 <c>/query</c> answer (<c>{"results":[{"error": ...}]}</c>), if any.</summary>
    public static string? StatementError(string body)
    {
        try
        {
            using var json = JsonDocument.Parse(body);
            return json.RootElement.TryGetProperty("results", out var results) && results.GetArrayLength() > 0 &&
                   results[0].TryGetProperty("error", out var error)
                ? error.GetString()
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>
    /// How many points a 400 answer rejected. InfluxDB writes the rest of the batch and says <c>dropped=N</c> for points it
    /// refused (type conflict, beyond retention) and <c>unable to parse '...'</c> once per unparsable line; without either,
    /// (e.g. a bare "field type conflict") it refused the whole batch.
    /// </summary>
    public static int RejectedPoints(string message, int batchSize)
    {
        var rejected = 0;
        foreach (Match match in Dropped().Matches(message))
        {
            rejected += int.Parse(match.Groups[1].ValueSpan, CultureInfo.InvariantCulture);
        }

        rejected += UnableToParse().Count(message);
        return rejected == 0 ? batchSize : Math.Min(rejected, batchSize);
    }

    /// <summary>Whether a 400 answer says which points it refused (<c>dropped=N</c>, <c>unable to parse</c>): then it wrote the others.</summary>
    public static bool NamesRejectedPoints(string message) => Dropped().IsMatch(message) || UnableToParse().IsMatch(message);

    [GeneratedRegex(@"dropped=(\d+)")]
    private static partial Regex Dropped();

    [GeneratedRegex("unable to parse")]
    private static partial Regex UnableToParse();
}
