using System.Globalization;

namespace Kubebpf.Testing;

/// <summary>One line of <see cref="PodNginx"/>'s access log: what the server itself says it answered.</summary>
public sealed record AccessLogEntry(string Method, string Uri, int Status);

/// <summary>
/// nginx in a <see cref="NetworkPods"/> pod with the caller's <c>location</c> blocks and an access log of method, URI
/// and status per request: the server-side truth that observed traffic is checked against. The process belongs to
/// the pods (killed on their <c>Dispose</c>); this object owns the prefix folder.
/// </summary>
public sealed class PodNginx : IDisposable
{
    private readonly string _directory;

    private PodNginx(string directory) => _directory = directory;

    /// <summary>The nginx process (owned by the pods), e.g. to move it into a cgroup.</summary>
    public System.Diagnostics.Process Process { get; private set; } = null!;

    /// <summary>The access log, one line per request, written when the request ends.</summary>
    public string AccessLogPath => Path.Combine(_directory, "access.log");

    /// <summary>
    /// Starts nginx in <paramref name="pod"/> on <paramref name="port"/> (IPv4 and IPv6) with <paramref name="locations"/>
    /// as its one server's <c>location</c> blocks (e.g. <c>location = /ok { return 200 "ok"; }</c>), and waits until it listens.
    /// </summary>
    public static PodNginx Start(NetworkPods pods, Pod pod, string locations, int port = 80)
    {
        ArgumentNullException.ThrowIfNull(pods);
        ArgumentNullException.ThrowIfNull(pod);
        var nginx = new PodNginx(Directory.CreateTempSubdirectory("kubebpf-nginx-").FullName);
        try
        {
            var directory = nginx._directory;
            var config = $$"""
                daemon off;
                master_process off;
                worker_processes 1;
                pid {{directory}}/nginx.pid;
                error_log {{directory}}/error.log;
                events { worker_connections 256; }
                http {
                    log_format requests '$request_method $request_uri $status';
                    access_log {{nginx.AccessLogPath}} requests;
                    client_body_temp_path {{directory}}/body;
                    proxy_temp_path {{directory}}/proxy;
                    fastcgi_temp_path {{directory}}/fastcgi;
                    uwsgi_temp_path {{directory}}/uwsgi;
                    scgi_temp_path {{directory}}/scgi;
                    keepalive_requests 10000;
                    server {
                        listen {{port}};
                        listen [::]:{{port}};
                        {{locations}}
                    }
                }
                """;
            var configPath = Path.Combine(directory, "nginx.conf");
            File.WriteAllText(configPath, config);
            var errorLog = Path.Combine(directory, "error.log");
            nginx.Process = pods.Start(pod, "nginx", "-e", errorLog, "-p", directory, "-c", configPath);
            PodSockets.WaitForListener(pod, port, TimeSpan.FromSeconds(10), () => File.Exists(errorLog) ? File.ReadAllText(errorLog) : "(no error log)");
            return nginx;
        }
        catch
        {
            nginx.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The access log once it holds <paramref name="expected"/> lines (nginx writes a line after the response went out,
    /// so a client may finish first); whatever it holds after <paramref name="timeout"/> otherwise.
    /// </summary>
    public async Task<IReadOnlyList<AccessLogEntry>> ReadAccessLogAsync(int expected, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var lines = File.Exists(AccessLogPath) ? await File.ReadAllLinesAsync(AccessLogPath) : [];
            if (lines.Length >= expected || DateTime.UtcNow >= deadline)
            {
                return [.. lines.Select(Parse)];
            }

            await Task.Delay(50);
        }
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

    private static AccessLogEntry Parse(string line)
    {
        var parts = line.Split(' ');
        if (parts.Length != 3 || !int.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var status))
        {
            throw new FormatException($"Unexpected access log line '{line}' (expected: method uri status).");
        }

        return new AccessLogEntry(parts[0], parts[1], status);
    }
}
