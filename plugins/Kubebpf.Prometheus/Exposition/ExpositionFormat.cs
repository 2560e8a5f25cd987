using System.Globalization;

namespace Kubebpf.Prometheus.Exposition;

/// <summary>The formats <c>/metrics</c> answers in.</summary>
internal enum ExpositionFormat
{
    /// <summary>Text format 0.0.4: classic histograms.</summary>
    Text,

    /// <summary>OpenMetrics 1.0 text: classic histograms.</summary>
    OpenMetrics,

    /// <summary>
    /// Delimited <c>io.prometheus.client.MetricFamily</c> protobuf, which Prometheus asks for first when it ingests native
    /// histograms: each histogram carries its classic buckets and its native ones.
    /// </summary>
    Protobuf,
}

/// <summary>Picks the format of an answer from the request's <c>Accept</c> header (the highest <c>q</c> this plugin can write).</summary>
internal static class ExpositionFormats
{
    /// <summary>The content type of the protobuf format, as Prometheus asks for it.</summary>
    public const string ProtobufContentType = "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited";

    /// <summary>The content type of an answer in <paramref name="format"/>.</summary>
    public static string ContentType(ExpositionFormat format) => format switch
    {
        ExpositionFormat.OpenMetrics => TextExposition.OpenMetricsContentType,
        ExpositionFormat.Protobuf => ProtobufContentType,
        _ => TextExposition.TextContentType,
    };

    /// <summary>
    /// The format of the media range with the highest quality that this plugin writes; on equal quality the one
    /// listed first. Text when the header is missing or names nothing known (text is every scraper's fallback).
    /// </summary>
    public static ExpositionFormat Negotiate(string? accept)
    {
        if (string.IsNullOrWhiteSpace(accept))
        {
            return ExpositionFormat.Text;
        }

        var best = ExpositionFormat.Text;
        var bestQuality = 0.0;
        foreach (var range in accept.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = range.Split(';', StringSplitOptions.TrimEntries);
            var quality = 1.0;
            string? proto = null, encoding = null;
            foreach (var parameter in parts.AsSpan(1))
            {
                var equals = parameter.IndexOf('=', StringComparison.Ordinal);
                if (equals <= 0)
                {
                    continue;
                }

                var name = parameter[..equals].Trim();
                var value = parameter[(equals + 1)..].Trim().Trim('"');
                if (name.Equals("q", StringComparison.OrdinalIgnoreCase))
                {
                    quality = double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var q) ? q : 0;
                }
                else if (name.Equals("proto", StringComparison.OrdinalIgnoreCase))
                {
                    proto = value;
                }
                else if (name.Equals("encoding", StringComparison.OrdinalIgnoreCase))
                {
                    encoding = value;
                }
            }

            ExpositionFormat? format = parts[0].ToLowerInvariant() switch
            {
                "application/vnd.google.protobuf" when proto == "io.prometheus.client.MetricFamily" && encoding == "delimited" => ExpositionFormat.Protobuf,
                "application/openmetrics-text" => ExpositionFormat.OpenMetrics,
                "text/plain" or "text/*" or "*/*" => ExpositionFormat.Text,
                _ => null,
            };
            if (format is { } known && quality > bestQuality)
            {
                best = known;
                bestQuality = quality;
            }
        }

        return best;
    }
}
