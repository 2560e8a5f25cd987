using System.Buffers.Binary;
using System.Text;

namespace Kubebpf.MySql.Tests;

/// <summary>Builds MySQL protocol packets as a server and a client write them.</summary>
internal static class Packets
{
    public const uint Protocol41 = 0x200;
    public const uint ConnectWithDb = 0x8;
    public const uint Compress = 0x20;
    public const uint Ssl = 0x800;
    public const uint SecureConnection = 0x8000;
    public const uint MultiStatements = 1u << 16;
    public const uint MultiResults = 1u << 17;
    public const uint PluginAuth = 1u << 19;
    public const uint DeprecateEof = 1u << 24;

    public const uint Basic = Protocol41 | ConnectWithDb | SecureConnection | MultiStatements | MultiResults | PluginAuth;

    public const ushort AutoCommit = 0x2;
    public const ushort MoreResults = 0x8;

    /// <summary>One packet; payloads of 16 MiB and more are split as the protocol requires, sequence ids counting on.</summary>
    public static byte[] Message(byte sequence, ReadOnlySpan<byte> payload)
    {
        var output = new List<byte>(payload.Length + 8);
        while (true)
        {
            var length = Math.Min(payload.Length, 0xFFFFFF);
            output.AddRange([(byte)length, (byte)(length >> 8), (byte)(length >> 16), sequence++]);
            output.AddRange(payload[..length]);
            payload = payload[length..];
            if (length < 0xFFFFFF)
            {
                return [.. output];
            }
        }
    }

    public static byte[] Greeting(uint capabilities, string version = "10.11.6-MariaDB")
    {
        var payload = new List<byte> { 10 };
        payload.AddRange(Encoding.ASCII.GetBytes(version));
        payload.Add(0);
        payload.AddRange([7, 0, 0, 0]); // thread id
        payload.AddRange("abcdefgh"u8.ToArray());
        payload.Add(0);
        payload.AddRange([(byte)capabilities, (byte)(capabilities >> 8), 45, (byte)AutoCommit, 0, (byte)(capabilities >> 16), (byte)(capabilities >> 24)]);
        payload.Add(21);
        payload.AddRange(new byte[10]);
        payload.AddRange("ijklmnopqrst"u8.ToArray());
        payload.Add(0);
        payload.AddRange("mysql_native_password\0"u8.ToArray());
        return Message(0, [.. payload]);
    }

    public static byte[] HandshakeResponse(uint capabilities, string user, string? database)
    {
        var payload = new List<byte>();
        payload.AddRange(Le32(capabilities | (database is null ? 0 : ConnectWithDb)));
        payload.AddRange(Le32(16 * 1024 * 1024));
        payload.Add(45);
        payload.AddRange(new byte[23]);
        payload.AddRange(Encoding.ASCII.GetBytes(user + "\0"));
        payload.Add(20);
        payload.AddRange(new byte[20]);
        if (database is not null)
        {
            payload.AddRange(Encoding.ASCII.GetBytes(database + "\0"));
        }

        payload.AddRange("mysql_native_password\0"u8.ToArray());
        return Message(1, [.. payload]);
    }

    public static byte[] SslRequest(uint capabilities)
    {
        var payload = new byte[32];
        BinaryPrimitives.WriteUInt32LittleEndian(payload, capabilities | Ssl);
        BinaryPrimitives.WriteUInt32LittleEndian(payload.AsSpan(4), 16 * 1024 * 1024);
        payload[8] = 45;
        return Message(1, payload);
    }

    public static byte[] Query(string sql) => Command(3, Encoding.UTF8.GetBytes(sql));

    public static byte[] Command(byte command, params byte[] arguments) => Message(0, [command, .. arguments]);

    public static byte[] Execute(uint statementId) => Command(0x17, [.. Le32(statementId), 0, 1, 0, 0, 0]);

    public static byte[] Ok(byte sequence, ulong affectedRows = 0, ushort status = AutoCommit, byte header = 0) =>
        Message(sequence, [header, .. LengthEncoded(affectedRows), 0, (byte)status, (byte)(status >> 8), 0, 0]);

    public static byte[] Eof(byte sequence, ushort status = AutoCommit) => Message(sequence, [0xFE, 0, 0, (byte)status, (byte)(status >> 8)]);

    public static byte[] Err(byte sequence, ushort code, string state, string message) =>
        Message(sequence, [0xFF, (byte)code, (byte)(code >> 8), (byte)'#', .. Encoding.ASCII.GetBytes(state), .. Encoding.UTF8.GetBytes(message)]);

    /// <summary>A text result set starting at <paramref name="sequence"/>; its end says whether more results follow.</summary>
    public static byte[] ResultSet(byte sequence, int columns, IEnumerable<string?[]> rows, bool deprecateEof, ushort status = AutoCommit)
    {
        var output = new List<byte>();
        output.AddRange(Message(sequence++, LengthEncoded((ulong)columns)));
        for (var i = 0; i < columns; i++)
        {
            output.AddRange(ColumnDefinition(sequence++, "c" + i));
        }

        if (!deprecateEof)
        {
            output.AddRange(Eof(sequence++));
        }

        foreach (var row in rows)
        {
            var payload = new List<byte>();
            foreach (var value in row)
            {
                if (value is null)
                {
                    payload.Add(0xFB);
                }
                else
                {
                    var bytes = Encoding.UTF8.GetBytes(value);
                    payload.AddRange(LengthEncoded((ulong)bytes.Length));
                    payload.AddRange(bytes);
                }
            }

            output.AddRange(Message(sequence++, [.. payload]));
        }

        output.AddRange(deprecateEof ? Ok(sequence, 0, status, header: 0xFE) : Eof(sequence, status));
        return [.. output];
    }

    public static byte[] PrepareOk(byte sequence, uint statementId, ushort columns, ushort parameters, bool deprecateEof)
    {
        var output = new List<byte>();
        output.AddRange(Message(sequence++, [0, .. Le32(statementId), (byte)columns, (byte)(columns >> 8), (byte)parameters, (byte)(parameters >> 8), 0, 0, 0]));
        foreach (var count in new[] { parameters, columns })
        {
            for (var i = 0; i < count; i++)
            {
                output.AddRange(ColumnDefinition(sequence++, "?"));
            }

            if (count > 0 && !deprecateEof)
            {
                output.AddRange(Eof(sequence++));
            }
        }

        return [.. output];
    }

    public static IEnumerable<string?[]> Rows(int count, int columns = 2) =>
        Enumerable.Range(0, count).Select(i => Enumerable.Range(0, columns).Select(c => (string?)$"v{i}-{c}").ToArray());

    private static byte[] ColumnDefinition(byte sequence, string name)
    {
        var payload = new List<byte>();
        foreach (var text in new[] { "def", "shop", "t", "t", name, name })
        {
            payload.AddRange(LengthEncoded((ulong)text.Length));
            payload.AddRange(Encoding.ASCII.GetBytes(text));
        }

        payload.AddRange([0x0C, 45, 0, 11, 0, 0, 0, 3, 0, 0, 0, 0]);
        return Message(sequence, [.. payload]);
    }

    public static byte[] LengthEncoded(ulong value) => value switch
    {
        < 251 => [(byte)value],
        <= 0xFFFF => [0xFC, (byte)value, (byte)(value >> 8)],
        <= 0xFFFFFF => [0xFD, (byte)value, (byte)(value >> 8), (byte)(value >> 16)],
        _ => [0xFE, .. BitConverter.GetBytes(value)],
    };

    private static byte[] Le32(uint value) => [(byte)value, (byte)(value >> 8), (byte)(value >> 16), (byte)(value >> 24)];
}
