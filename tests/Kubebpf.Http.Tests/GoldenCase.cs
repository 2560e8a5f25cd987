using System.Globalization;
using System.Text;
using Kubebpf.Capture.Capture;
using Kubebpf.Capture.Flows;

namespace Kubebpf.Http.Tests;

/// <summary>
/// Reads <c>testcases/&lt;case&gt;/input</c>: one directive per line, <c>#</c> starts a comment.
/// <code>
/// options ipv6 observe-client query max-connections=2 max-head=100 max-pipelined=N idle-seconds=N client-seq=N server-seq=N
/// c>s t=1000 [conn=1] [seq=N] [len=N] [syn] [ack] [fin] [rst] [nosplit] "bytes with \r \n \t \\ \" \xHH escapes" *3"repeated" ...
/// s>c t=1500 ...
/// evict t=N   (the capture's idle housekeeping at time N)
/// </code>
/// <c>len</c> beyond the quoted bytes means the rest of the payload was not captured.
/// </summary>
internal static class GoldenCase
{
    /// <summary>
    /// Runs a case; with <paramref name="split"/>, the segment on that line is sent as two segments of the same
    /// time, cut at that offset (SYN and ACK with the first, FIN and RST with the second).
    /// </summary>
    public static Conversation Run(string input, (int Line, int Offset)? split = null)
    {
        Conversation? conversation = null;
        var lines = input.Split('\n');
        for (var index = 0; index < lines.Length; index++)
        {
            var line = lines[index].Trim();
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
                    conversation.Tracker.Tick(Number("t", 0));
                    break;
                case "c>s" or "s>c":
                    byte opening = 0;
                    opening |= values.ContainsKey("syn") ? PacketHeader.Syn : (byte)0;
                    opening |= values.ContainsKey("ack") ? PacketHeader.Ack : (byte)0;
                    byte closing = 0;
                    closing |= values.ContainsKey("fin") ? PacketHeader.Fin : (byte)0;
                    closing |= values.ContainsKey("rst") ? PacketHeader.Rst : (byte)0;
                    var (fromClient, t, connection) = (words[0] == "c>s", Number("t", 0), (int)Number("conn", 1));
                    if (split is { } cut && cut.Line == index)
                    {
                        conversation.Send(fromClient, payload[..cut.Offset], t, connection, flags: opening);
                        conversation.Send(fromClient, payload[cut.Offset..], t, connection, flags: closing);
                        break;
                    }

                    conversation.Send(
                        fromClient,
                        payload,
                        t,
                        connection,
                        values.ContainsKey("seq") ? (uint)Number("seq", 0) : null,
                        values.ContainsKey("len") ? (int)Number("len", 0) : null,
                        (byte)(opening | closing));
                    break;
                default:
                    throw new FormatException($"unknown directive: {line}");
            }
        }

        return conversation ?? new Conversation();
    }

    /// <summary>
    /// Every place a segment of the case can be cut in two: each byte boundary of the segments sent whole and in
    /// order (not those with an explicit <c>seq</c>, which retransmit or skip, nor those cut short by <c>len</c>, nor
    /// those marked <c>nosplit</c>, whose comment says why).
    /// </summary>
    public static IEnumerable<(int Line, int Offset)> SplitPoints(string input)
    {
        var lines = input.Split('\n');
        for (var index = 0; index < lines.Length; index++)
        {
            var line = lines[index].Trim();
            if (line.StartsWith("c>s", StringComparison.Ordinal) || line.StartsWith("s>c", StringComparison.Ordinal))
            {
                var (words, payload) = Split(line);
                if (!words.Any(w => w.StartsWith("seq=", StringComparison.Ordinal) || w.StartsWith("len=", StringComparison.Ordinal) || w == "nosplit"))
                {
                    for (var offset = 1; offset < payload.Length; offset++)
                    {
                        yield return (index, offset);
                    }
                }
            }
        }
    }

    private static Conversation CreateWithOptions(string[] words)
    {
        var http = new HttpOptions { RecordQueryStrings = words.Contains("query") };
        var capture = new FlowTrackerOptions();
        foreach (var pair in words.Select(w => w.Split('=', 2)).Where(p => p.Length == 2))
        {
            var value = long.Parse(pair[1], CultureInfo.InvariantCulture);
            switch (pair[0])
            {
                case "max-connections": capture.MaxFlows = (int)value; break;
                case "idle-seconds": capture.IdleTimeout = TimeSpan.FromSeconds(value); break;
                case "max-head": http.MaxHeadBytes = (int)value; break;
                case "max-pipelined": http.MaxPipelinedRequests = (int)value; break;
            }
        }

        var conversation = new Conversation(http, capture, words.Contains("ipv6")) { ObserveClient = words.Contains("observe-client") };
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
