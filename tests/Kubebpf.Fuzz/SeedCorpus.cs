using System.Buffers.Binary;
using System.Globalization;
using System.Text.RegularExpressions;
using Kubebpf.Sdk.Protocols;
using Kubebpf.Testing;

namespace Kubebpf.Fuzz;

/// <summary>
/// The seed corpora (checked in under <c>corpus/&lt;target&gt;/</c>): the HTTP golden cases' conversations, and
/// one well-formed exchange or two of each other protocol, so that the fuzzer starts from inputs that reach deep.
/// </summary>
internal static partial class SeedCorpus
{
    public static int Write(string directory)
    {
        var conversations = HttpGoldenConversations().ToList();
        Save(directory, "http-head", conversations.SelectMany(c => c).Select(step => step.Data));
        Save(directory, "http-stream", conversations.Select(Script));
        Save(directory, "http-chunked", [
            [3, .. "5\r\nhello\r\n0\r\n\r\n"u8],
            [1, .. "1a;ext=x\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nTrailer: t\r\n\r\n"u8],
            [255, .. "ffffffff\r\n"u8, 0xff]]);

        byte[] query = DnsQuery();
        byte[] answer = DnsAnswer(query);
        Save(directory, "dns-udp", [Script([(StreamSide.Client, query), (StreamSide.Server, answer)])]);
        Save(directory, "dns-tcp", [Script([(StreamSide.Client, [.. Length16(query), .. query]), (StreamSide.Server, [.. Length16(answer), .. answer])])]);
        Save(directory, "mysql", [Script(MySqlConversation())]);
        Save(directory, "redis", [Script([
            (StreamSide.Client, "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"u8.ToArray()),
            (StreamSide.Server, "+OK\r\n$1\r\nv\r\n"u8.ToArray()),
            (StreamSide.Client, "*1\r\n$5\r\nHELLO\r\nPING\r\n"u8.ToArray()),
            (StreamSide.Server, "%1\r\n+a\r\n:1\r\n-ERR no\r\n"u8.ToArray())])]);
        Save(directory, "capture", [CaptureScript(conversations[0], query, answer)]);
        return 0;
    }

    /// <summary>Each HTTP golden case's data lines, by side (the quoted strings, escapes decoded).</summary>
    private static IEnumerable<List<(StreamSide Side, byte[] Data)>> HttpGoldenConversations()
    {
        foreach (var input in Directory.EnumerateFiles(Path.Combine(RepositoryPaths.Root, "tests", "Kubebpf.Http.Tests", "testcases"), "input", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var steps = new List<(StreamSide, byte[])>();
            foreach (var line in File.ReadLines(input).Where(l => l.StartsWith("c>s", StringComparison.Ordinal) || l.StartsWith("s>c", StringComparison.Ordinal)))
            {
                var bytes = Quoted().Matches(line).SelectMany(m => Unescape(m.Groups[1].Value)).ToArray();
                if (bytes.Length > 0)
                {
                    steps.Add((line[0] == 'c' ? StreamSide.Client : StreamSide.Server, bytes));
                }
            }

            if (steps.Count > 0)
            {
                yield return steps;
            }
        }
    }

    private static byte[] Script(IEnumerable<(StreamSide Side, byte[] Data)> steps)
    {
        var script = new List<byte>();
        foreach (var (side, data) in steps)
        {
            StreamScript.WriteData(script, side, data);
        }

        return [.. script];
    }

    /// <summary>A handshake, an HTTP conversation on port 80, and a DNS query and answer, in the capture target's steps.</summary>
    private static byte[] CaptureScript(List<(StreamSide Side, byte[] Data)> http, byte[] query, byte[] answer)
    {
        var script = new List<byte> { 8, 0, 0, 1 | 8, 0, 0 };
        foreach (var (side, data) in http)
        {
            for (var i = 0; i < data.Length; i += byte.MaxValue)
            {
                var piece = data.AsSpan(i, Math.Min(byte.MaxValue, data.Length - i));
                script.AddRange([(byte)(side == StreamSide.Client ? 0 : 1), 0, (byte)piece.Length, .. piece]);
            }
        }

        script.AddRange([4, 0, (byte)query.Length, .. query, 5, 0, (byte)answer.Length, .. answer, 16, 0, 0, 1 | 16, 0, 0]);
        return [.. script];
    }

    private static byte[] DnsQuery() =>
        [0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 7, .. "example"u8, 3, .. "com"u8, 0, 0, 1, 0, 1];

    private static byte[] DnsAnswer(byte[] query)
    {
        byte[] answer = [.. query, 0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 93, 184, 216, 34];
        answer[2] = 0x81;
        answer[3] = 0x80;
        answer[7] = 1;
        return answer;
    }

    private static byte[] Length16(byte[] message)
    {
        var length = new byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(length, (ushort)message.Length);
        return length;
    }

    /// <summary>Greeting, login, OK, then a query answered by an error and one by OK.</summary>
    private static List<(StreamSide, byte[])> MySqlConversation() =>
    [
        (StreamSide.Server, Packet(0, [10, .. "10.11.6-MariaDB\0"u8, 1, 0, 0, 0, .. "abcdefgh"u8, 0, 0xfe, 0xf7, 0x21, 2, 0, 0xff, 0x81, 21, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, .. "ijklmnopqrst\0"u8, .. "mysql_native_password\0"u8])),
        (StreamSide.Client, Packet(1, [0x85, 0xa6, 0xff, 0x01, 0, 0, 0, 1, 0x21, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, .. "root\0"u8, 0])),
        (StreamSide.Server, Packet(2, [0, 0, 0, 2, 0, 0, 0])),
        (StreamSide.Client, Packet(0, [3, .. "SELECT * FROM t WHERE id = 42"u8])),
        (StreamSide.Server, Packet(1, [0xff, 0x7a, 0x04, (byte)'#', .. "42S02Table 't' doesn't exist"u8])),
        (StreamSide.Client, Packet(0, [3, .. "UPDATE t SET a = 'x'"u8])),
        (StreamSide.Server, Packet(1, [0, 1, 0, 2, 0, 0, 0])),
    ];

    private static byte[] Packet(byte sequence, byte[] payload) =>
        [(byte)payload.Length, (byte)(payload.Length >> 8), (byte)(payload.Length >> 16), sequence, .. payload];

    private static void Save(string directory, string target, IEnumerable<byte[]> seeds)
    {
        var folder = Directory.CreateDirectory(Path.Combine(directory, target)).FullName;
        var index = 0;
        foreach (var seed in seeds.DistinctBy(Convert.ToHexString).Take(40))
        {
            File.WriteAllBytes(Path.Combine(folder, $"seed-{++index:D3}"), seed);
        }
    }

    private static IEnumerable<byte> Unescape(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] != '\\' || i + 1 == text.Length)
            {
                yield return (byte)text[i];
                continue;
            }

            var c = text[++i];
            if (c == 'x' && i + 2 < text.Length)
            {
                yield return byte.Parse(text.AsSpan(i + 1, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                i += 2;
                continue;
            }

            yield return (byte)(c switch { 'r' => '\r', 'n' => '\n', 't' => '\t', _ => c });
        }
    }

    [GeneratedRegex("\"((?:[^\"\\\\]|\\\\.)*)\"")]
    private static partial Regex Quoted();
}
