namespace Kubebpf.Otlp;

/// <summary>Checks the <c>key=value,key2=value2</c> form of <see cref="OtlpOptions.Headers"/> (the exporter parses it).</summary>
internal static class HeaderParser
{
    /// <summary>The first malformed entry, as a sentence, or null when <paramref name="headers"/> is well formed (or empty).</summary>
    public static string? FirstError(string? headers)
    {
        if (string.IsNullOrWhiteSpace(headers))
        {
            return null;
        }

        var entries = headers.Split(',', StringSplitOptions.TrimEntries);
        for (var i = 0; i < entries.Length; i++)
        {
            var equals = entries[i].IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0 || entries[i][..equals].Trim().Length == 0)
            {
                // The entry may hold a secret: name its position, not its text.
                return $"every entry must be key=value; entry {i + 1} is not.";
            }
        }

        return null;
    }
}
