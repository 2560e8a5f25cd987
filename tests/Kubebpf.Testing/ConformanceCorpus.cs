using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Kubebpf.Testing;

/// <summary>One exchange of the conformance corpus: the exact bytes each side sends.</summary>
/// <param name="Id">The entry's number, in corpus order.</param>
/// <param name="Comment">What the entry exercises.</param>
/// <param name="Request">The request bytes, empty lines before it included.</param>
/// <param name="Response">The response bytes, interim 1xx responses included.</param>
/// <param name="Last">The server closes the connection after answering (an empty response: without answering).</param>
public sealed record CorpusEntry(int Id, string Comment, byte[] Request, byte[] Response, bool Last)
{
    private static readonly HashSet<string> StandardMethods = ["GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"];

    /// <summary>The server answers only once the test releases it (see <see cref="ConformanceCorpus.WritePlan"/>); never in the corpus file.</summary>
    public bool Hold { get; init; }

    /// <summary>The request without the empty lines before it: what the server reads (and looks entries up by).</summary>
    public byte[] RequestWithoutEmptyLines
    {
        get
        {
            var start = 0;
            while (start < Request.Length && (Request[start] == '\n' || (Request[start] == '\r' && start + 1 < Request.Length && Request[start + 1] == '\n')))
            {
                start += Request[start] == '\r' ? 2 : 1;
            }

            return Request[start..];
        }
    }

    /// <summary>The method token as sent.</summary>
    public string Method => RequestLine.Split(' ')[0];

    /// <summary>The request-target up to its query string: the call log's <c>path</c>.</summary>
    public string Path => RequestLine.Split(' ')[1].Split('?')[0];

    /// <summary>The status of the final response (the first that is not an interim 1xx).</summary>
    public int FinalStatus
    {
        get
        {
            var text = Encoding.Latin1.GetString(Response);
            var start = 0;
            while (true)
            {
                var status = int.Parse(text.AsSpan(start + 9, 3), CultureInfo.InvariantCulture);
                if (status is >= 200 or 101)
                {
                    return status;
                }

                // An interim response is a head alone: the next one starts after its empty line.
                var crlf = text.IndexOf("\r\n\r\n", start, StringComparison.Ordinal);
                var lf = text.IndexOf("\n\n", start, StringComparison.Ordinal);
                if (crlf < 0 && lf < 0)
                {
                    throw new FormatException($"{this}: an interim response without its empty line");
                }

                start = crlf >= 0 && (lf < 0 || crlf < lf) ? crlf + 4 : lf + 2;
            }
        }
    }

    /// <summary>The call log's <c>method</c> tag: the method, or OTHER when it is not one of the nine standard ones.</summary>
    public string MethodTag => StandardMethods.Contains(Method) ? Method : "OTHER";

    private string RequestLine
    {
        get
        {
            var request = Encoding.Latin1.GetString(RequestWithoutEmptyLines);
            return request[..request.IndexOf('\n', StringComparison.Ordinal)].TrimEnd('\r');
        }
    }

    public override string ToString() => $"#{Id} {Comment}";
}

/// <summary>The entries one connection carries, in order; pipelined: all requests in one write.</summary>
public sealed record CorpusConnection(bool Pipelined, IReadOnlyList<int> Entries);

/// <summary>
/// The HTTP/1.1 conformance corpus (<c>Conformance/corpus.txt</c> next to the test assembly, its format described at
/// its top): valid exchanges written from RFC 9110 and RFC 9112, and how they are grouped into connections.
/// </summary>
public sealed class ConformanceCorpus
{
    private ConformanceCorpus(IReadOnlyList<CorpusEntry> entries, IReadOnlyList<CorpusConnection> connections)
    {
        Entries = entries;
        Connections = connections;
    }

    /// <summary>Where the corpus, the server and the client are, next to the test assembly.</summary>
    public static string Folder => System.IO.Path.Combine(AppContext.BaseDirectory, "Conformance");

    public IReadOnlyList<CorpusEntry> Entries { get; }

    public IReadOnlyList<CorpusConnection> Connections { get; }

    /// <summary>A plan of a test's own exchanges (ids are indexes into <paramref name="entries"/>) for the same server and client.</summary>
    public static ConformanceCorpus Create(IReadOnlyList<CorpusEntry> entries, IReadOnlyList<CorpusConnection> connections) => new(entries, connections);

    /// <summary>Reads and checks the corpus: every entry commented, distinct requests, "last" only at a connection's end.</summary>
    public static ConformanceCorpus Load()
    {
        var entries = new List<CorpusEntry>();
        var connections = new List<CorpusConnection>();
        string? mode = null;
        List<int>? open = null;
        var closed = false;
        string? comment = null;
        byte[]? request = null;
        foreach (var (line, number) in File.ReadLines(System.IO.Path.Combine(Folder, "corpus.txt")).Select((l, i) => (l, i + 1)))
        {
            if (line.StartsWith("@ ", StringComparison.Ordinal))
            {
                mode = line[2..];
                (open, closed) = (null, false);
                if (mode is not ("single" or "keepalive" or "pipelined"))
                {
                    throw new FormatException($"corpus.txt:{number}: unknown connection mode '{mode}'");
                }
            }
            else if (line.StartsWith("# ", StringComparison.Ordinal))
            {
                comment = line[2..];
            }
            else if (line.StartsWith("> ", StringComparison.Ordinal))
            {
                request = Unescape(line[2..]);
            }
            else if (line.StartsWith("< ", StringComparison.Ordinal))
            {
                if (mode is null || comment is null || request is null)
                {
                    throw new FormatException($"corpus.txt:{number}: a response needs a connection mode, a comment and a request before it");
                }

                if (closed)
                {
                    throw new FormatException($"corpus.txt:{number}: the entry before closed the connection; start another with an '@' line");
                }

                var entry = new CorpusEntry(entries.Count, comment, request, Unescape(line[2..]), Last: false);
                entries.Add(entry);
                if (mode == "single" || open is null)
                {
                    open = [];
                    connections.Add(new CorpusConnection(mode == "pipelined", open));
                }

                open.Add(entry.Id);
                (comment, request) = (null, null);
            }
            else if (line == "! last")
            {
                entries[^1] = entries[^1] with { Last = true };
                closed = mode != "single";
            }
            else if (line.Length > 0 && line[0] != '#')
            {
                throw new FormatException($"corpus.txt:{number}: unexpected line '{line}'");
            }
        }

        var duplicates = entries.GroupBy(e => Convert.ToBase64String(e.RequestWithoutEmptyLines)).Where(g => g.Count() > 1).ToList();
        if (duplicates.Count > 0)
        {
            throw new FormatException("corpus.txt: requests must be distinct: " + string.Join("; ", duplicates.Select(g => string.Join(", ", g))));
        }

        return new ConformanceCorpus(entries, connections);
    }

    /// <summary>
    /// Writes the plan the python server and client read (entries base64-encoded, connections by id) to
    /// <paramref name="path"/>. The server logs the entries it answered to the file it is given; it answers a
    /// <see cref="CorpusEntry.Hold"/> entry once a file of that name with <c>.release</c> appended exists.
    /// </summary>
    public string WritePlan(string path)
    {
        var plan = new
        {
            entries = Entries.Select(e => new
            {
                id = e.Id,
                request = Convert.ToBase64String(e.Request),
                response = Convert.ToBase64String(e.Response),
                last = e.Last,
                hold = e.Hold,
            }),
            connections = Connections.Select(c => new { pipelined = c.Pipelined, entries = c.Entries }),
        };
        File.WriteAllText(path, JsonSerializer.Serialize(plan));
        return path;
    }

    /// <summary>\r \n \t \\ \xHH, and \{N:c} for N times the character c; every other character is its Latin-1 byte.</summary>
    private static byte[] Unescape(string text)
    {
        var bytes = new List<byte>(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] != '\\')
            {
                bytes.Add(checked((byte)text[i]));
                continue;
            }

            var escape = text[++i];
            switch (escape)
            {
                case 'r': bytes.Add((byte)'\r'); break;
                case 'n': bytes.Add((byte)'\n'); break;
                case 't': bytes.Add((byte)'\t'); break;
                case '\\': bytes.Add((byte)'\\'); break;
                case 'x':
                    bytes.Add(byte.Parse(text.AsSpan(i + 1, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture));
                    i += 2;
                    break;
                case '{':
                    var end = text.IndexOf('}', i);
                    var parts = text[(i + 1)..end].Split(':', 2);
                    bytes.AddRange(Enumerable.Repeat(checked((byte)parts[1][0]), int.Parse(parts[0], CultureInfo.InvariantCulture)));
                    i = end;
                    break;
                default:
                    throw new FormatException($"corpus.txt: unknown escape \\{escape} in '{text}'");
            }
        }

        return [.. bytes];
    }
}
