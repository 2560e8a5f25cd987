using System.Globalization;
using System.Text;
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

    /// <summary>The longest server message the agent repeats in its logs and errors; longer ones are cut.</summary>
    public const int MaxMessageLength = 1024;

    private const string UnableToParseQuote = "unable to parse '";

    /// <summary>
    /// The message of an error body (<c>{"error": ...}</c> in 1.x, <c>{"code":..., "message": ...}</c> in 2.x), else the
    /// body itself, made fit for a log: see <see cref="ForLog"/>.
    /// </summary>
    public static string ErrorMessage(string body) => ForLog(RawErrorMessage(body));

    /// <summary>
    /// A server message as the agent may log it: every line InfluxDB quotes back (<c>unable to parse '&lt;line&gt;': why</c>)
    /// is replaced by its measurement and length, since its tags and fields can hold what the agent keeps out of its
    /// logs (paths, hosts, statements), and the whole is cut to <see cref="MaxMessageLength"/> characters. The phrases
    /// <see cref="RejectedPoints"/> counts are kept.
    /// </summary>
    public static string ForLog(string message)
    {
        var text = new StringBuilder(Math.Min(message.Length, MaxMessageLength));
        var rest = message.AsSpan();
        while (rest.IndexOf(UnableToParseQuote, StringComparison.Ordinal) is var start and >= 0)
        {
            text.Append(rest[..(start + UnableToParseQuote.Length)]);
            rest = rest[(start + UnableToParseQuote.Length)..];
            // The quoted line ends at the last "': " before the next quoted line: a line may hold "': " itself.
            var next = rest.IndexOf(UnableToParseQuote, StringComparison.Ordinal);
            var scope = next < 0 ? rest : rest[..next];
            var end = scope.LastIndexOf("': ", StringComparison.Ordinal);
            var line = end < 0 ? scope : scope[..end];
            var measurement = line[..Math.Min(line.Length, 64)];
            var cut = measurement.IndexOfAny(' ', ',');
            text.Append(cut < 0 ? measurement : measurement[..cut])
                .Append(CultureInfo.InvariantCulture, $",... ({line.Length} characters, not shown)");
            rest = rest[line.Length..];
        }

        text.Append(rest);
        return text.Length <= MaxMessageLength ? text.ToString() : string.Concat(text.ToString(0, MaxMessageLength), "... (cut)");
    }

    private static string RawErrorMessage(string body)
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
