using System.Globalization;

namespace Kubebpf.Profiler.Profiles;

/// <summary>The collapsed-stacks format of flamegraph.pl (<c>frame;frame;frame count</c> per line), which speedscope and Pyroscope read too.</summary>
internal static class CollapsedStacks
{
    /// <summary>Writes one line per stack, sorted by stack, to <paramref name="path"/> through a temporary file.</summary>
    public static void WriteFile(IReadOnlyDictionary<string, long> stacks, string path)
    {
        var temporary = path + ".tmp";
        using (var writer = new StreamWriter(temporary))
        {
            Write(stacks, writer);
        }

        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>Writes one line per stack, sorted by stack.</summary>
    public static void Write(IReadOnlyDictionary<string, long> stacks, TextWriter writer)
    {
        foreach (var (stack, samples) in stacks.OrderBy(s => s.Key, StringComparer.Ordinal))
        {
            writer.Write(stack.Replace('\n', ' '));
            writer.Write(' ');
            writer.WriteLine(samples.ToString(CultureInfo.InvariantCulture));
        }
    }

    /// <summary>Reads collapsed stacks; lines without a trailing count are skipped.</summary>
    public static Dictionary<string, long> Parse(TextReader reader)
    {
        var stacks = new Dictionary<string, long>(StringComparer.Ordinal);
        for (var line = reader.ReadLine(); line is not null; line = reader.ReadLine())
        {
            var space = line.LastIndexOf(' ');
            if (space > 0 && long.TryParse(line.AsSpan(space + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var samples))
            {
                stacks[line[..space]] = stacks.GetValueOrDefault(line[..space]) + samples;
            }
        }

        return stacks;
    }
}
