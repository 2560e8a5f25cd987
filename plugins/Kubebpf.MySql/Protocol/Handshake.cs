using System.Buffers.Binary;

namespace Kubebpf.MySql.Protocol;

/// <summary>Reads the connection phase: the server greeting (Handshake v10) and the client's answer to it.</summary>
internal static class Handshake
{
    /// <summary>The longest greeting accepted when sniffing.</summary>
    public const int MaxGreetingPayload = 1024;

    /// <summary>An SSLRequest's payload: capabilities, max packet size, character set, 23 bytes of filler.</summary>
    public const int SslRequestPayload = 32;

    /// <summary>
    /// Whether <paramref name="payload"/> is a server greeting: protocol 10, a printable NUL-terminated version, and
    /// the capability flags behind it; <paramref name="capabilities"/> are the server's.
    /// </summary>
    public static bool TryReadGreeting(ReadOnlySpan<byte> payload, out uint capabilities)
    {
        capabilities = 0;
        if (payload.Length < 2 || payload[0] != Wire.ProtocolVersion10)
        {
            return false;
        }

        var versionEnd = payload[1..].IndexOf((byte)0);
        if (versionEnd < 1 || payload[1..(1 + versionEnd)].ContainsAnyExceptInRange((byte)0x20, (byte)0x7E))
        {
            return false;
        }

        // version NUL, thread id (4), auth data (8), filler (1), capabilities low (2), charset (1), status (2), capabilities high (2)
        var offset = 1 + versionEnd + 1 + 4 + 8 + 1;
        if (payload.Length < offset + 2)
        {
            return false;
        }

        capabilities = BinaryPrimitives.ReadUInt16LittleEndian(payload[offset..]);
        offset += 2 + 1 + 2;
        if (payload.Length >= offset + 2)
        {
            capabilities |= (uint)BinaryPrimitives.ReadUInt16LittleEndian(payload[offset..]) << 16;
        }

        return true;
    }

    /// <summary>Whether a client's first packet is an SSLRequest: the connection continues in TLS.</summary>
    public static bool IsSslRequest(ReadOnlySpan<byte> payload, int payloadLength) =>
        payloadLength == SslRequestPayload && payload.Length >= 4
        && (BinaryPrimitives.ReadUInt32LittleEndian(payload) & Wire.ClientSsl) != 0;

    /// <summary>
    /// Reads a HandshakeResponse41: the client's capabilities and the default database it names (null when none or
    /// when it is beyond the bytes given).
    /// </summary>
    public static bool TryReadResponse(ReadOnlySpan<byte> payload, out uint capabilities, out ReadOnlySpan<byte> database)
    {
        database = default;
        capabilities = payload.Length >= 4 ? BinaryPrimitives.ReadUInt32LittleEndian(payload) : 0;
        if ((capabilities & Wire.ClientProtocol41) == 0)
        {
            return payload.Length >= 2; // HandshakeResponse320: no database of interest
        }

        var offset = 4 + 4 + 1 + 23;
        var userEnd = offset < payload.Length ? payload[offset..].IndexOf((byte)0) : -1;
        if (userEnd < 0)
        {
            return offset <= payload.Length;
        }

        offset += userEnd + 1;
        ulong authLength;
        if ((capabilities & Wire.ClientPluginAuthLenencData) != 0)
        {
            if (!Wire.TryReadLengthEncoded(payload, ref offset, out authLength))
            {
                return true;
            }
        }
        else if ((capabilities & Wire.ClientSecureConnection) != 0)
        {
            if (offset >= payload.Length)
            {
                return true;
            }

            authLength = payload[offset++];
        }
        else
        {
            var authEnd = offset < payload.Length ? payload[offset..].IndexOf((byte)0) : -1;
            authLength = authEnd < 0 ? (ulong)payload.Length : (ulong)authEnd + 1;
        }

        if ((capabilities & Wire.ClientConnectWithDb) == 0 || (ulong)offset + authLength >= (ulong)payload.Length)
        {
            return true;
        }

        offset += (int)authLength;
        var databaseEnd = payload[offset..].IndexOf((byte)0);
        database = databaseEnd < 0 ? default : payload.Slice(offset, databaseEnd);
        return true;
    }
}
