using Kubebpf.Http.Privacy;
using Kubebpf.Sdk.Pipeline;

namespace Kubebpf.Http;

/// <summary>The HTTP parser plugin's section: which connections are HTTP, and the parser's bounds and privacy settings.</summary>
public sealed class HttpOptions : IValidatedOptions
{
    /// <summary>The largest <see cref="MaxHeadBytes"/> accepted: the capture keeps up to this much per direction.</summary>
    public const int MaxHeadBytesLimit = 1024 * 1024;

    /// <summary>Server ports that are HTTP: connections on them are offered to HTTP first. Empty: classified by sniffing only.</summary>
    public ushort[] Ports { get; set; } = [];

    /// <summary>Recognise HTTP on any port by its first bytes (a request line or a status line).</summary>
    public bool Sniff { get; set; } = true;

    /// <summary>Longest request or response head; longer heads are counted (<c>oversized_heads</c>) and not parsed.</summary>
    public int MaxHeadBytes { get; set; } = 16 * 1024;

    /// <summary>Requests waiting for their responses on one connection (HTTP pipelining).</summary>
    public int MaxPipelinedRequests { get; set; } = 64;

    /// <summary>Record query strings (they may hold secrets); off by default.</summary>
    public bool RecordQueryStrings { get; set; }

    /// <summary>
    /// Mask path segments that may be secrets: the one after a secret-naming segment, <c>name=value</c> values,
    /// random-looking tokens, <see cref="RedactPatterns"/>. The userinfo of a target is masked whatever this says.
    /// </summary>
    public bool RedactPaths { get; set; } = true;

    /// <summary>Segment names whose next segment is masked, in addition to the built-in ones (the README lists them).</summary>
    public string[] RedactAfterSegments { get; set; } = [];

    /// <summary>Regular expressions (.NET syntax, run without backtracking): each match in a path is masked.</summary>
    public string[] RedactPatterns { get; set; } = [];

    /// <summary>Shortest segment masked as a random-looking token; 0 turns token detection off.</summary>
    public int RedactTokenMinLength { get; set; } = 32;

    /// <summary>Distinct Host values and non-standard methods kept as shared strings.</summary>
    public int MaxInternedStrings { get; set; } = 4096;

    /// <inheritdoc />
    public IEnumerable<string> Validate()
    {
        if (!Sniff && Ports.Length == 0)
        {
            yield return "Sniff is false and Ports is empty: no connection would be parsed as HTTP.";
        }

        if (Ports.Contains((ushort)0))
        {
            yield return "Ports: 0 is not a port.";
        }

        if (MaxHeadBytes is < 64 or > MaxHeadBytesLimit)
        {
            yield return $"MaxHeadBytes must be between 64 and {MaxHeadBytesLimit}: {MaxHeadBytes}.";
        }

        if (MaxPipelinedRequests < 1)
        {
            yield return $"MaxPipelinedRequests must be at least 1: {MaxPipelinedRequests}.";
        }

        if (RedactTokenMinLength is not 0 and (< 8 or > MaxHeadBytesLimit))
        {
            yield return $"RedactTokenMinLength must be 0 (off) or between 8 and {MaxHeadBytesLimit}: {RedactTokenMinLength}.";
        }

        if (RedactAfterSegments.Any(name => name.Length == 0 || name.Contains('/')))
        {
            yield return "RedactAfterSegments: a segment name must not be empty nor hold '/'.";
        }

        foreach (var pattern in RedactPatterns)
        {
            string? error = null;
            try
            {
                TargetRedactor.CompilePattern(pattern);
            }
            catch (Exception ex) when (ex is ArgumentException or NotSupportedException)
            {
                error = ex.Message;
            }

            if (error is not null)
            {
                yield return $"RedactPatterns: '{pattern}' is not a regular expression that runs without backtracking: {error}";
            }
        }

        if (MaxInternedStrings < 0)
        {
            yield return $"MaxInternedStrings must not be negative: {MaxInternedStrings}.";
        }
    }
}
