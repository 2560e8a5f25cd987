using System.Text.RegularExpressions;

namespace Kubebpf.Testing;

/// <summary>One command of <see cref="PodMariaDb"/>'s general query log: what the server itself says it ran.</summary>
/// <param name="Connection">The server's connection id.</param>
/// <param name="Command">The log's command word: <c>Connect</c>, <c>Query</c>, <c>Prepare</c>, <c>Execute</c>, <c>Close stmt</c>, <c>Init DB</c>, <c>Quit</c>...</param>
/// <param name="Argument">The statement or other argument, lines joined with <c>\n</c>.</param>
public sealed record GeneralLogEntry(int Connection, string Command, string Argument);

/// <summary>
/// MariaDB (Debian's <c>mariadbd</c>) in a <see cref="NetworkPods"/> pod: its own data directory made by
/// <c>mariadb-install-db</c>, run as root on its own port and socket, a self-signed certificate for TLS clients, a
/// user <c>app</c> without password allowed from anywhere, a 64 MiB packet limit, and the general query log as the
/// server-side truth. Set-up statements go through the Unix socket, which no capture sees. The process belongs to the
/// pods (killed on their <c>Dispose</c>); this object owns the folder.
/// </summary>
public sealed partial class PodMariaDb : IDisposable
{
    private readonly string _directory;

    private PodMariaDb(string directory, Pod pod, int port)
    {
        _directory = directory;
        Pod = pod;
        Port = port;
    }

    public Pod Pod { get; }

    public int Port { get; }

    /// <summary>The server's Unix socket, for set-up statements no capture sees.</summary>
    public string Socket => Path.Combine(_directory, "mariadb.sock");

    public string GeneralLogPath => Path.Combine(_directory, "general.log");

    /// <summary>Initialises a data directory and starts the server in <paramref name="pod"/>, then waits until it listens.</summary>
    public static PodMariaDb Start(NetworkPods pods, Pod pod, int port = 3306)
    {
        ArgumentNullException.ThrowIfNull(pods);
        ArgumentNullException.ThrowIfNull(pod);
        var server = new PodMariaDb(Directory.CreateTempSubdirectory("kubebpf-mariadb-").FullName, pod, port);
        try
        {
            var directory = server._directory;
            var data = Path.Combine(directory, "data");
            KernelTest.Run("mariadb-install-db", "--no-defaults", $"--datadir={data}", "--user=root", "--auth-root-authentication-method=normal",
                "--skip-test-db");
            KernelTest.Run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=kubebpf-test",
                "-keyout", Path.Combine(directory, "key.pem"), "-out", Path.Combine(directory, "cert.pem"));
            var errorLog = Path.Combine(directory, "error.log");
            pods.Start(pod, "mariadbd", "--no-defaults", $"--datadir={data}", $"--socket={server.Socket}", $"--port={port}",
                "--bind-address=0.0.0.0", "--user=root", $"--pid-file={Path.Combine(directory, "mariadb.pid")}", $"--log-error={errorLog}",
                "--general-log=1", $"--general-log-file={server.GeneralLogPath}", "--skip-name-resolve", "--max-allowed-packet=64M",
                "--innodb-buffer-pool-size=64M", "--skip-log-bin", $"--ssl-cert={Path.Combine(directory, "cert.pem")}",
                $"--ssl-key={Path.Combine(directory, "key.pem")}");
            PodSockets.WaitForListener(pod, port, TimeSpan.FromSeconds(60), () => File.Exists(errorLog) ? File.ReadAllText(errorLog) : "(no error log)");
            server.Admin("CREATE USER app@'%'; GRANT ALL ON *.* TO app@'%';");
            return server;
        }
        catch
        {
            server.Dispose();
            throw;
        }
    }

    /// <summary>Runs <paramref name="sql"/> as root through the Unix socket (invisible to the capture) and returns its output.</summary>
    public string Admin(string sql) =>
        KernelTest.Run("mariadb", "--no-defaults", $"--socket={Socket}", "-u", "root", "--batch", "--skip-column-names", "-e", sql);

    /// <summary>The general log's commands after the first <paramref name="skip"/> ones (e.g. those logged before a test's traffic).</summary>
    public IReadOnlyList<GeneralLogEntry> ReadGeneralLog(int skip = 0)
    {
        var entries = new List<GeneralLogEntry>();
        foreach (var line in File.ReadAllLines(GeneralLogPath))
        {
            var match = EntryPattern().Match(line);
            if (match.Success)
            {
                entries.Add(new GeneralLogEntry(int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), match.Groups[2].Value, match.Groups[3].Value));
            }
            else if (entries.Count > 0 && !line.EndsWith("started with:", StringComparison.Ordinal)
                && !line.StartsWith("Tcp port", StringComparison.Ordinal) && !line.StartsWith("Time\t", StringComparison.Ordinal))
            {
                entries[^1] = entries[^1] with { Argument = entries[^1].Argument + "\n" + line }; // a statement spanning lines
            }
        }

        return entries[Math.Min(skip, entries.Count)..];
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // a leftover temp directory is harmless
        }
    }

    // "251127 15:40:01\t    3 Query\tSELECT 1" or, for later entries of the same second, "\t\t    3 Query\tSELECT 1".
    [GeneratedRegex(@"^(?:\d{6}\s+\d{1,2}:\d{2}:\d{2})?\s+(\d+) (Connect|Query|Prepare|Execute|Close stmt|Reset stmt|Init DB|Quit|Field List|Ping|Statistics|Change user|Long Data|Fetch|Set option|Refresh|Shutdown|Processlist|Kill|Debug|Time|Binlog Dump|Connect Out|Register Replica|Daemon|Bulk_execute|Reset connection)\t?(.*)$")]
    private static partial Regex EntryPattern();
}
