using System.Globalization;
using System.Text;
using Kubebpf.Prometheus.Metrics;

namespace Kubebpf.Prometheus.Exposition;

/// <summary>
/// Writes families in Prometheus' text format 0.0.4 or in OpenMetrics 1.0 (the differences: OpenMetrics names a counter
/// family without <c>_total</c> in its metadata, and ends with <c>#&#160;EOF</c>).
/// </summary>
internal static class TextExposition
{
    /// <summary>The content type of text format 0.0.4.</summary>
    public const string TextContentType = "text/plain; version=0.0.4; charset=utf-8";

    /// <summary>The content type of OpenMetrics 1.0.</summary>
    public const string OpenMetricsContentType = "application/openmetrics-text; version=1.0.0; charset=utf-8";

    /// <summary>Writes <paramref name="families"/> in one format.</summary>
    public static void Write(StringBuilder output, IEnumerable<FamilySample> families, bool openMetrics)
    {
        foreach (var (family, series) in families)
        {
            var metadataName = family.Kind == MetricKind.Counter && !openMetrics ? family.Name + "_total" : family.Name;
            output.Append("# HELP ").Append(metadataName).Append(' ');
            AppendEscaped(output, family.Help, escapeQuote: openMetrics);
            output.Append('\n');
            output.Append("# TYPE ").Append(metadataName).Append(' ').Append(TypeName(family.Kind)).Append('\n');
            foreach (var sample in series)
            {
                switch (family.Kind)
                {
                    case MetricKind.Counter:
                        AppendSample(output, family.Name + "_total", sample.Labels, null, sample.Value);
                        break;
                    case MetricKind.Gauge:
                        AppendSample(output, family.Name, sample.Labels, null, sample.Value);
                        break;
                    default:
                        AppendHistogram(output, family, sample);
                        break;
                }
            }
        }

        if (openMetrics)
        {
            output.Append("# EOF\n");
        }
    }

    /// <summary>A number as both formats want it: integers with <c>.0</c> in <c>le</c>, <c>+Inf</c>, <c>NaN</c>.</summary>
    public static string FormatNumber(double value)
    {
        if (double.IsPositiveInfinity(value))
        {
            return "+Inf";
        }

        if (double.IsNegativeInfinity(value))
        {
            return "-Inf";
        }

        if (double.IsNaN(value))
        {
            return "NaN";
        }

        var text = value.ToString("R", CultureInfo.InvariantCulture);
        return text.Contains('.', StringComparison.Ordinal) || text.Contains('E', StringComparison.Ordinal) ? text : text + ".0";
    }

    private static void AppendHistogram(StringBuilder output, MetricFamily family, SeriesSample sample)
    {
        var name = family.Name;
        var bounds = family.UpperBounds;
        var buckets = sample.CumulativeBuckets ?? [];
        var bucketName = name + "_bucket";
        for (var i = 0; i < buckets.Length; i++)
        {
            var le = i < bounds.Length ? FormatNumber(bounds[i]) : "+Inf";
            AppendSample(output, bucketName, sample.Labels, le, buckets[i]);
        }

        AppendSample(output, name + "_sum", sample.Labels, null, sample.Sum);
        AppendSample(output, name + "_count", sample.Labels, null, sample.Value);
    }

    private static void AppendSample(StringBuilder output, string name, KeyValuePair<string, string>[] labels, string? le, double value)
    {
        output.Append(name);
        if (labels.Length > 0 || le is not null)
        {
            output.Append('{');
            var first = true;
            foreach (var (label, text) in labels)
            {
                AppendLabel(output, label, text, ref first);
            }

            if (le is not null)
            {
                AppendLabel(output, "le", le, ref first);
            }

            output.Append('}');
        }

        output.Append(' ').Append(FormatNumber(value)).Append('\n');
    }

    private static void AppendLabel(StringBuilder output, string name, string value, ref bool first)
    {
        if (!first)
        {
            output.Append(',');
        }

        first = false;
        output.Append(name).Append("=\"");
        AppendEscaped(output, value, escapeQuote: true);
        output.Append('"');
    }

    private static void AppendEscaped(StringBuilder output, string text, bool escapeQuote)
    {
        foreach (var c in text)
        {
            _ = c switch
            {
                '\\' => output.Append(@"\\"),
                '\n' => output.Append(@"\n"),
                '"' when escapeQuote => output.Append("\\\""),
                _ => output.Append(c),
            };
        }
    }

    private static string TypeName(MetricKind kind) => kind switch
    {
        MetricKind.Counter => "counter",
        MetricKind.Gauge => "gauge",
        _ => "histogram",
    };
}
