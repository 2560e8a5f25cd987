using System.Text;

namespace Kubebpf.Prometheus.Metrics;

/// <summary>Prometheus' naming rules: metric names <c>[a-zA-Z_:][a-zA-Z0-9_:]*</c>, label names <c>[a-zA-Z_][a-zA-Z0-9_]*</c>.</summary>
internal static class MetricNames
{
    /// <summary>Every metric name starts with this.</summary>
    public const string Prefix = "kubebpf_";

    /// <summary>
    /// The gauge name of a field of another plugin's measurement: <c>kubebpf_&lt;measurement&gt;_&lt;field&gt;</c>, the
    /// prefix not repeated for measurements that already have it (<c>kubebpf_agent</c>).
    /// </summary>
    public static string OfField(string measurement, string field)
    {
        var name = measurement.StartsWith(Prefix, StringComparison.Ordinal) ? measurement : Prefix + measurement;
        return Sanitize(name + "_" + field, allowColon: true);
    }

    /// <summary>A valid label name for <paramref name="tag"/>: invalid characters become <c>_</c>; the reserved <c>__</c> prefix is cut.</summary>
    public static string OfLabel(string tag)
    {
        var name = Sanitize(tag, allowColon: false);
        return name.StartsWith("__", StringComparison.Ordinal) ? "tag" + name : name;
    }

    private static string Sanitize(string name, bool allowColon)
    {
        if (name.Length > 0 && IsValid(name, allowColon))
        {
            return name;
        }

        var builder = new StringBuilder(name.Length + 1);
        if (name.Length == 0 || char.IsAsciiDigit(name[0]))
        {
            builder.Append('_');
        }

        foreach (var c in name)
        {
            builder.Append(char.IsAsciiLetterOrDigit(c) || c == '_' || (allowColon && c == ':') ? c : '_');
        }

        return builder.ToString();
    }

    private static bool IsValid(string name, bool allowColon)
    {
        if (char.IsAsciiDigit(name[0]))
        {
            return false;
        }

        foreach (var c in name)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c != '_' && !(allowColon && c == ':'))
            {
                return false;
            }
        }

        return true;
    }
}
