namespace Kubebpf.StaticMetadata.Tests;

/// <summary>A workload file in a fresh temporary folder, deleted with the folder.</summary>
internal sealed class TempFile : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("kubebpf-static-").FullName;
    private int _version;

    public TempFile(string name, string content)
    {
        Path = System.IO.Path.Combine(_folder, name);
        Write(content);
    }

    public string Path { get; }

    /// <summary>Replaces the content with a distinct modification time, so a change is seen even within one clock tick.</summary>
    public void Write(string content)
    {
        File.WriteAllText(Path, content);
        File.SetLastWriteTimeUtc(Path, new DateTime(2025, 1, 1, 0, 0, 0, DateTimeKind.Utc).AddSeconds(++_version));
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);
}
