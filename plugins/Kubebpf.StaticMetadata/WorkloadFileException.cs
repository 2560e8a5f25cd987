namespace Kubebpf.StaticMetadata;

/// <summary>The workload file is malformed; the message reads <c>file:line: what is wrong</c>.</summary>
public sealed class WorkloadFileException : Exception
{
    /// <summary>Creates the exception.</summary>
    public WorkloadFileException(string path, int line, string problem)
        : base(line > 0 ? $"{path}:{line}: {problem}" : $"{path}: {problem}")
    {
        FilePath = path;
        Line = line;
        Problem = problem;
    }

    /// <summary>The file.</summary>
    public string FilePath { get; }

    /// <summary>The 1-based line, or 0 when the problem concerns the whole file.</summary>
    public int Line { get; }

    /// <summary>What is wrong, without the location.</summary>
    public string Problem { get; }
}
