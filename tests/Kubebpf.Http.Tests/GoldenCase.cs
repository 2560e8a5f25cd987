using System.Globalization;
using System.Text;
using Kubebpf.Http.Capture;
using Kubebpf.Http.Tracking;

namespace Kubebpf.Http.Tests;

/// <summary>
/// Reads <c>testcases/&lt;case&gt;/input</c>: one directive per line, <c>#</c> starts a comment.
/// <code>
/// options ipv6 observe-client query max-connections=2 max-head=100 client-seq=N server-seq=N
/// c>s t=1000 [conn=1] [seq=N] [len=N] [fin] [rst] "bytes with \r \n \t \\ \" \xHH escapes" *3"repeated" ...
/// s>c t=1500 ...
/// evict t=N
/// </code>
/// <c>len</c> beyond the quoted bytes means the rest of the payload was not captured.
/// </summary>
internal static class GoldenCase
{
    public static Conversation Run(string input)
    {
        Conversation? conversation = null;
        foreach (var raw in input.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            var (words, payload) = Split(line);
            if (words[0] == "options")
            {
                conversation = CreateWithOptions(words[1..]);
                continue;
            }

            conversation ??= new Conversation();
            var values = words.Skip(1).Select(w => w.Split('=', 2)).ToDictionary(p => p[0], p => p.Length > 1 ? p[1] : "");
            long Number(string name, long fallback) => values.TryGetValue(name, out var v) ? long.Parse(v, CultureInfo.InvariantCulture) : fallback;
            switch (words[0])
            {
                case "evict":
                    conversation.Tracker.EvictIdle(Number("t", 0), conversation.Exchanges);
                    break;
                case "c>s" or "s>c":
                    byte flags = 0;
                    flags |= values.ContainsKey("fin") ? SegmentHeader.Fin : (byte)0;
                    flags |= values.ContainsKey("rst") ? SegmentHeader.Rst : (byte)0;
                    conversation.Send(
                        fromClient: words[0] == "c>s",
                        payload,
                        Number("t", 0),
                        (int)Number("conn", 1),
                        values.ContainsKey("seq") ? (uint)Number("seq", 0) : null,
                        values.ContainsKey("len") ? (int)Number("len", 0) : null,
                        flags);
                    break;
                default:
                    throw new FormatException($"unknown directive: {line}");
            }
        }

        return conversation ?? new Conversation();
    }

    private static Conversation CreateWithOptions(string[] words)
    {
        var options = new HttpTrackerOptions();
        var conversation = (Conversation?)null;
        var ipv6 = words.Contains("ipv6");
        foreach (var pair in words.Select(w => w.Split('=', 2)).Where(p => p.Length == 2))
        {
            var value = long.Parse(pair[1], CultureInfo.InvariantCulture);
            switch (pair[0])
            {
                case "max-connections": options.MaxConnections = (int)value; break;
                case "max-head": options.MaxHeadBytes = (int)value; break;
                case "max-pipelined": options.MaxPipelinedRequests = (int)value; break;
                case "idle-seconds": options.IdleTimeout = TimeSpan.FromSeconds(value); break;
            }
        }

        options.RecordQueryStrings = words.Contains("query");
        conversation = new Conversation(options, ipv6) { ObserveClient = words.Contains("observe-client") };
        foreach (var pair in words.Select(w => w.Split('=', 2)).Where(p => p.Length == 2))
        {
            switch (pair[0])
            {
                case "client-seq": conversation.ClientInitialSeq = uint.Parse(pair[1], CultureInfo.InvariantCulture); break;
                case "server-seq": conversation.ServerInitialSeq = uint.Parse(pair[1], CultureInfo.InvariantCulture); break;
            }
        }

        return conversation;
    }

    /// <summary>Splits a line into its leading words and the concatenated payload parts (quoted, optionally <c>*N</c>-repeated).</summary>
    private static (string[] Words, byte[] Payload) Split(string line)
    {
        var words = new List<string>();
        var payload = new List<byte>();
        var i = 0;
        while (i < line.Length)
        {
            if (line[i] == ' ')
            {
                i++;
                continue;
            }

            var repeat = 1;
            if (line[i] == '*')
            {
                var quote = line.IndexOf('"', i);
                repeat = int.Parse(line.AsSpan(i + 1, quote - i - 1), CultureInfo.InvariantCulture);
                i = quote;
            }

            if (line[i] == '"')
            {
                var part = ReadQuoted(line, ref i);
                for (var r = 0; r < repeat; r++)
                {
                    payload.AddRange(part);
                }

                continue;
            }

            var end = line.IndexOf(' ', i);
            end = end < 0 ? line.Length : end;
            words.Add(line[i..end]);
            i = end;
        }

        return ([.. words], [.. payload]);
    }

    private static byte[] ReadQuoted(string line, ref int i)
    {
        var bytes = new List<byte>();
        for (i++; line[i] != '"'; i++)
        {
            if (line[i] != '\\')
            {
                bytes.AddRange(Encoding.UTF8.GetBytes(line[i].ToString()));
                continue;
            }

            i++;
            switch (line[i])
            {
                case 'r': bytes.Add((byte)'\r'); break;
                case 'n': bytes.Add((byte)'\n'); break;
                case 't': bytes.Add((byte)'\t'); break;
                case 'x':
                    bytes.Add(byte.Parse(line.AsSpan(i + 1, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture));
                    i += 2;
                    break;
                default: bytes.Add((byte)line[i]); break;
            }
        }

        i++;
        return [.. bytes];
    }
}
