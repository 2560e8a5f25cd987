namespace Kubebpf.Fuzz;

/// <summary>What a fuzzing run does: which targets, how long each, where the results go.</summary>
internal sealed record RunOptions(int DurationSeconds, IReadOnlyList<string> Targets, string Output)
{
    public static RunOptions Parse(string[] args)
    {
        var duration = 10;
        IReadOnlyList<string> targets = [.. FuzzTargets.All.Keys];
        var output = Path.Combine(Path.GetTempPath(), "kubebpf-fuzz");
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            switch (args[i])
            {
                case "--duration":
                    duration = int.Parse(args[i + 1], System.Globalization.CultureInfo.InvariantCulture);
                    break;
                case "--targets":
                    targets = args[i + 1].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                    break;
                case "--output":
                    output = Path.GetFullPath(args[i + 1]);
                    break;
                default:
                    throw new ArgumentException($"unknown option {args[i]}");
            }
        }

        if (targets.FirstOrDefault(t => !FuzzTargets.All.ContainsKey(t)) is { } unknown)
        {
            throw new ArgumentException($"unknown target {unknown}; targets: {string.Join(", ", FuzzTargets.All.Keys)}");
        }

        return duration < 1 ? throw new ArgumentException("--duration must be at least 1 second") : new RunOptions(duration, targets, output);
    }
}
