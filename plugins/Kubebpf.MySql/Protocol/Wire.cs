using System.Buffers.Binary;

namespace Kubebpf.MySql.Protocol;

/// <summary>Constants and readers of the MySQL client/server protocol (shared by MariaDB).</summary>
internal static class Wire
{
    /// <summary>Packet header: 3-byte little-endian payload length, 1-byte sequence id.</summary>
    public const int HeaderBytes = 4;

    /// <summary>A payload of this length continues in the next packet (messages of 16 MiB and more are split).</summary>
    public const int MaxPacketPayload = 0xFFFFFF;

    public const byte Ok = 0x00;
    public const byte LocalInfile = 0xFB;
    public const byte Eof = 0xFE;
    public const byte Err = 0xFF;

    /// <summary>An EOF packet's payload: 0xFE, warnings, status flags.</summary>
    public const int EofPayload = 5;

    public const uint ClientConnectWithDb = 0x8;
    public const uint ClientCompress = 0x20;
    public const uint ClientProtocol41 = 0x200;
    public const uint ClientSsl = 0x800;
    public const uint ClientSecureConnection = 0x8000;
    public const uint ClientPluginAuth = 1u << 19;
    public const uint ClientPluginAuthLenencData = 1u << 21;
    public const uint ClientDeprecateEof = 1u << 24;
    public const uint ClientZstdCompression = 1u << 26;

    /// <summary>MySQL 8: a COM_QUERY starts with its query attributes.</summary>
    public const uint ClientQueryAttributes = 1u << 27;

    /// <summary>SERVER_MORE_RESULTS_EXISTS: another result set of the same command follows.</summary>
    public const ushort ServerMoreResultsExist = 0x8;

    /// <summary>The protocol version byte a server greeting starts with.</summary>
    public const byte ProtocolVersion10 = 10;

    /// <summary>COM_STMT_EXECUTE's statement id meaning "the statement prepared last" (MariaDB's direct execution).</summary>
    public const uint LastPreparedStatement = 0xFFFFFFFF;

    public static int PayloadLength(ReadOnlySpan<byte> header) => header[0] | (header[1] << 8) | (header[2] << 16);

    /// <summary>Reads a length-encoded integer at <paramref name="offset"/>; false when it is cut or not one (0xFB NULL, 0xFF).</summary>
    public static bool TryReadLengthEncoded(ReadOnlySpan<byte> data, ref int offset, out ulong value)
    {
        value = 0;
        if (offset >= data.Length)
        {
            return false;
        }

        var first = data[offset];
        var size = first switch
        {
            < 0xFB => 0,
            0xFC => 2,
            0xFD => 3,
            0xFE => 8,
            _ => -1,
        };
        if (size < 0 || offset + 1 + size > data.Length)
        {
            return false;
        }

        value = size switch
        {
            0 => first,
            2 => BinaryPrimitives.ReadUInt16LittleEndian(data[(offset + 1)..]),
            3 => (ulong)(data[offset + 1] | (data[offset + 2] << 8) | (data[offset + 3] << 16)),
            _ => BinaryPrimitives.ReadUInt64LittleEndian(data[(offset + 1)..]),
        };
        offset += 1 + size;
        return true;
    }

    /// <summary>The shared name of a command byte, or null for bytes that are no command.</summary>
    public static string? CommandName(byte command) => command switch
    {
        Command.Quit => "COM_QUIT",
        Command.InitDb => "COM_INIT_DB",
        Command.Query => "COM_QUERY",
        Command.FieldList => "COM_FIELD_LIST",
        0x05 => "COM_CREATE_DB",
        0x06 => "COM_DROP_DB",
        0x07 => "COM_REFRESH",
        0x08 => "COM_SHUTDOWN",
        Command.Statistics => "COM_STATISTICS",
        0x0A => "COM_PROCESS_INFO",
        0x0C => "COM_PROCESS_KILL",
        0x0D => "COM_DEBUG",
        Command.Ping => "COM_PING",
        Command.ChangeUser => "COM_CHANGE_USER",
        Command.BinlogDump => "COM_BINLOG_DUMP",
        0x15 => "COM_REGISTER_SLAVE",
        Command.StmtPrepare => "COM_STMT_PREPARE",
        Command.StmtExecute => "COM_STMT_EXECUTE",
        Command.StmtSendLongData => "COM_STMT_SEND_LONG_DATA",
        Command.StmtClose => "COM_STMT_CLOSE",
        Command.StmtReset => "COM_STMT_RESET",
        Command.SetOption => "COM_SET_OPTION",
        Command.StmtFetch => "COM_STMT_FETCH",
        Command.BinlogDumpGtid => "COM_BINLOG_DUMP_GTID",
        Command.ResetConnection => "COM_RESET_CONNECTION",
        Command.StmtBulkExecute => "COM_STMT_BULK_EXECUTE",
        _ => null,
    };

    /// <summary>What the server answers to a command.</summary>
    public static ResponseKind ResponseOf(byte command) => command switch
    {
        Command.Query or Command.StmtExecute or Command.StmtBulkExecute or 0x0A => ResponseKind.Results,
        Command.StmtPrepare => ResponseKind.Prepare,
        Command.StmtFetch => ResponseKind.Rows,
        Command.Quit or Command.StmtClose or Command.StmtSendLongData => ResponseKind.None,
        Command.FieldList or Command.Statistics or Command.ChangeUser or Command.BinlogDump or Command.BinlogDumpGtid or 0x15
            => ResponseKind.Unparsed,
        _ => ResponseKind.Status,
    };
}

/// <summary>Command bytes the parser treats specially.</summary>
internal static class Command
{
    public const byte Quit = 0x01;
    public const byte InitDb = 0x02;
    public const byte Query = 0x03;
    public const byte FieldList = 0x04;
    public const byte Statistics = 0x09;
    public const byte Ping = 0x0E;
    public const byte ChangeUser = 0x11;
    public const byte BinlogDump = 0x12;
    public const byte StmtPrepare = 0x16;
    public const byte StmtExecute = 0x17;
    public const byte StmtSendLongData = 0x18;
    public const byte StmtClose = 0x19;
    public const byte StmtReset = 0x1A;
    public const byte SetOption = 0x1B;
    public const byte StmtFetch = 0x1C;
    public const byte BinlogDumpGtid = 0x1E;
    public const byte ResetConnection = 0x1F;
    public const byte StmtBulkExecute = 0xFA;
}

/// <summary>The shape of a command's answer.</summary>
internal enum ResponseKind : byte
{
    /// <summary>No answer (COM_QUIT, COM_STMT_CLOSE, COM_STMT_SEND_LONG_DATA): no exchange.</summary>
    None,

    /// <summary>One OK, ERR or EOF packet.</summary>
    Status,

    /// <summary>OK, ERR, LOCAL INFILE or result sets (text or binary), chained while more results exist.</summary>
    Results,

    /// <summary>Rows then EOF/OK, without column definitions (COM_STMT_FETCH).</summary>
    Rows,

    /// <summary>PREPARE_OK with parameter and column definitions, or ERR.</summary>
    Prepare,

    /// <summary>Answers the parser does not follow (statistics, replication, change user): the exchange ends at the first packet, the rest is skipped up to the next command.</summary>
    Unparsed,
}
