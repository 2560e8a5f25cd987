using System.Buffers.Binary;
using System.Text;
using Kubebpf.MySql.Fingerprints;
using Kubebpf.MySql.Protocol;
using Kubebpf.Sdk.Events;
using Kubebpf.Sdk.Protocols;

namespace Kubebpf.MySql.Streams;

/// <summary>
/// Pairs the commands of one MySQL connection with their answers, in order (pipelining too), from the byte streams
/// the capture reassembled: the handshake (capabilities, TLS, compression, default database), then every command.
/// Only packet heads are inspected; payloads are passed by length, so bytes the capture did not copy (a large
/// statement's or result set's middle) are skipped without losing the framing when the gap lies inside a packet. A
/// side that loses its framing resynchronises at the next command. Every loss is counted; bad input never throws.
/// </summary>
internal sealed class MySqlStreamParser : IStreamParser
{
    /// <summary>Payload bytes inspected of a server packet: the longest OK, ERR, EOF or PREPARE_OK head.</summary>
    private const int ServerHeadBytes = 24;

    /// <summary>MySQL's column limit: a column count beyond it is no result set.</summary>
    private const ulong MaxColumns = 4096;

    private const string UnknownStatement = "{unknown statement}";

    /// <summary>Bytes of a segment searched for the next packet boundary after a gap inside rows.</summary>
    private const int MaxChainSearch = 4096;

    /// <summary>Rows the moving mean of row sizes spans, about; also the packets of a chain whose sizes are averaged.</summary>
    private const int RecentRows = 32;

    /// <summary>Packets in a row, sequence ids counting on, that make a boundary certain enough.</summary>
    private const int MinChainPackets = 4;

    private readonly MySqlProtocol _protocol;
    private readonly MySqlCounters _counters;
    private readonly IExchangeOutput _output;
    private readonly CommandQueue _commands;
    private readonly byte[] _serverHead = new byte[Math.Max(ServerHeadBytes, Handshake.MaxGreetingPayload)];
    private byte[]? _clientHead;
    private PacketReader _client;
    private PacketReader _server;
    private Phase _phase;
    private uint _serverCapabilities;

    /// <summary>What both sides support, once the handshake was seen (0 for a connection older than the capture).</summary>
    private uint _capabilities;
    private string? _database;
    private Dictionary<uint, PreparedStatement>? _prepared;
    private PreparedStatement? _latestPrepared;
    private long _lastCommandStartNs = long.MinValue;

    /// <summary>The answer being read: its command and what it said so far.</summary>
    private bool _open;
    private PendingCommand _openCommand;
    private AnswerState _state;
    private long _firstAnswerNs;
    private long _columnsLeft;
    private long _rows;
    private long _affectedRows;
    private int _errorCode;
    private string? _sqlState;
    private bool _answerTruncated;
    private long _answerBytes;

    /// <summary>The mean size of the open answer's latest rows (0 before the first): it estimates the rows in a gap.</summary>
    private double _recentRowBytes;

    /// <summary>Bytes of each side's stream so far, gaps included.</summary>
    private long _serverPosition;
    private long _clientPosition;

    /// <summary>The sequence id of the last server packet read, and where in the stream the packet after it starts.</summary>
    private byte _lastSequence;
    private long _lastPacketEnd;

    /// <summary>Definition packets (and their EOFs) still due after a PREPARE_OK whose exchange was emitted.</summary>
    private long _trailingDefinitions;
    private int _trailingEofs;

    /// <summary>The server is answering a command the parser does not follow: its packets are skipped up to the next command.</summary>
    private bool _skippingAnswer;

    /// <summary>The server sent a packet since the client side lost its framing: the client's next segment starts a command.</summary>
    private bool _serverSpokeSinceClientDesync;

    /// <summary>The client sent bytes since the server side lost its framing: the server's next segment may start an answer.</summary>
    private bool _clientSpokeSinceServerDesync;

    public MySqlStreamParser(MySqlProtocol protocol, IExchangeOutput output)
    {
        _protocol = protocol;
        _counters = protocol.Counters;
        _output = output;
        _commands = new CommandQueue(protocol.Options.MaxPipelinedCommands);
    }

    private enum Phase : byte
    {
        /// <summary>Nothing seen yet: a greeting starts the handshake, a command means the connection is older than the capture.</summary>
        Start,

        /// <summary>Greeting seen; the client's handshake response (or SSLRequest) is next.</summary>
        Handshake,

        /// <summary>Authentication exchange until the server's OK.</summary>
        Authenticating,

        Commands,

        /// <summary>TLS or compressed: not parsed.</summary>
        Opaque,
    }

    private enum AnswerState : byte
    {
        /// <summary>The first packet of an answer or of its next result.</summary>
        First,
        Columns,

        /// <summary>Column definitions read: an EOF (without CLIENT_DEPRECATE_EOF) or the rows follow.</summary>
        AfterColumns,
        Rows,
    }

    /// <summary>A command is waiting, or an answer is being read.</summary>
    private bool AwaitsAnswer => _commands.Count > 0 || _open;

    public int OnData(in StreamChunk chunk, ReadOnlySpan<byte> data)
    {
        if (_phase == Phase.Opaque)
        {
            return data.Length;
        }

        var side = chunk.Side;
        // Either side speaking means the other's last message was complete: a lost side may resume at its next one.
        if (side == StreamSide.Server)
        {
            _serverSpokeSinceClientDesync = true;
        }
        else
        {
            _clientSpokeSinceServerDesync = true;
        }

        // Positions in each stream (gaps included) place packets around a gap: rows inside it, a command's size.
        ref var position = ref side == StreamSide.Server ? ref _serverPosition : ref _clientPosition;
        var basePosition = position;
        position += data.Length;

        ref var reader = ref Reader(side);
        var offset = reader.Desynced ? Resynchronise(side, data, basePosition) : 0;
        if (offset < 0)
        {
            return data.Length;
        }

        while (offset < data.Length && !reader.Desynced && _phase != Phase.Opaque)
        {
            var available = data[offset..];
            if (reader.Collecting)
            {
                var take = Math.Min(reader.Wanted - reader.Collected, available.Length);
                if (reader.Collected == 0 && take == reader.Wanted)
                {
                    offset += take; // the whole head is here: inspect it in place
                    reader.Collected = take;
                    reader.Remaining -= take;
                    OnPacket(side, available[..take], partial: false);
                    continue;
                }

                available[..take].CopyTo(HeadBuffer(side).AsSpan(reader.Collected));
                reader.Collected += take;
                reader.Remaining -= take;
                offset += take;
                if (!reader.Collecting)
                {
                    OnPacket(side, HeadBuffer(side).AsSpan(0, reader.Wanted), partial: false);
                }

                continue;
            }

            if (reader.Remaining > 0)
            {
                var skipped = (int)Math.Min(reader.Remaining, available.Length);
                reader.Remaining -= skipped;
                offset += skipped;
                continue;
            }

            offset += ReadHeader(side, chunk.TimestampNs, available, basePosition + offset);
        }

        return data.Length;
    }

    public void OnGap(StreamSide side, long bytes, long timestampNs)
    {
        (side == StreamSide.Server ? ref _serverPosition : ref _clientPosition) += bytes;
        ref var reader = ref Reader(side);
        if (_phase == Phase.Opaque || reader.Desynced)
        {
            return;
        }

        if (reader.HeaderFilled > 0)
        {
            LoseFraming(side);
            return;
        }

        if (reader.Collecting)
        {
            if (reader.Collected == 0)
            {
                LoseFraming(side);
                return;
            }

            // The packet's head is cut by bytes never seen: inspect what came (a statement's prefix).
            InspectCollected(side);
            if (reader.Desynced)
            {
                return;
            }
        }

        if (reader.Remaining >= bytes)
        {
            reader.Remaining -= bytes;
            MarkTruncated(side);
            return;
        }

        LoseFraming(side);
    }

    public bool OnFin(StreamSide side, long timestampNs) =>
        // A FIN closes one direction only: a client that sent its last commands and closed still gets the answers.
        side == StreamSide.Client && AwaitsAnswer;

    public void OnClose(long timestampNs)
    {
        if (_open)
        {
            _answerTruncated = true; // the connection ended inside the answer
            EmitOpen();
        }

        _counters.UnansweredCommands.Add(_commands.Count);
        _commands.Clear();
    }

    private ref PacketReader Reader(StreamSide side) => ref side == StreamSide.Client ? ref _client : ref _server;

    private byte[] HeadBuffer(StreamSide side) =>
        side == StreamSide.Server ? _serverHead : _clientHead ??= new byte[_protocol.Options.MaxStatementBytes];

    /// <summary>Reads (part of) a packet header from <paramref name="data"/>; returns the bytes consumed.</summary>
    private int ReadHeader(StreamSide side, long timestampNs, ReadOnlySpan<byte> data, long position)
    {
        ref var reader = ref Reader(side);
        if (reader.HeaderFilled == 0)
        {
            reader.PacketStartNs = timestampNs;
            reader.PacketStartPosition = position;
        }

        var take = Math.Min(Wire.HeaderBytes - reader.HeaderFilled, data.Length);
        for (var i = 0; i < take; i++)
        {
            reader.Header |= (uint)data[i] << (8 * reader.HeaderFilled++);
        }

        if (reader.HeaderFilled < Wire.HeaderBytes)
        {
            return take;
        }

        var length = (int)(reader.Header & 0xFFFFFF);
        reader.Sequence = (byte)(reader.Header >> 24);
        reader.Header = 0;
        reader.HeaderFilled = 0;
        reader.Length = length;
        reader.Continuation = reader.NextIsContinuation;
        reader.NextIsContinuation = length == Wire.MaxPacketPayload;
        reader.Remaining = length;
        reader.Collected = 0;
        reader.Wanted = Math.Min(length, HeadBytesWanted(side, reader));
        if (reader.Wanted == 0)
        {
            OnPacket(side, [], partial: false);
        }

        return take;
    }

    /// <summary>How many payload bytes of the packet just announced the parser needs to see.</summary>
    private int HeadBytesWanted(StreamSide side, in PacketReader reader)
    {
        if (reader.Continuation)
        {
            return 0;
        }

        if (side == StreamSide.Server)
        {
            return _phase is Phase.Start or Phase.Handshake ? Handshake.MaxGreetingPayload : ServerHeadBytes;
        }

        // Client: a command (sequence 0) or the handshake response; auth data, continuations and LOCAL INFILE data are passed.
        return reader.Sequence == 0 || (_phase == Phase.Handshake && reader.Sequence == 1) ? _protocol.Options.MaxStatementBytes : 0;
    }

    /// <summary>Inspects the part of a packet's head collected so far as if it were all.</summary>
    private void InspectCollected(StreamSide side)
    {
        ref var reader = ref Reader(side);
        reader.Wanted = reader.Collected;
        OnPacket(side, HeadBuffer(side).AsSpan(0, reader.Collected), partial: true);
    }

    private void OnPacket(StreamSide side, ReadOnlySpan<byte> head, bool partial)
    {
        ref var reader = ref Reader(side);
        if (side == StreamSide.Client)
        {
            OnClientPacket(ref reader, head, partial);
        }
        else
        {
            OnServerPacket(ref reader, head);
        }
    }

    private void OnClientPacket(ref PacketReader reader, ReadOnlySpan<byte> head, bool partial)
    {
        switch (_phase)
        {
            case Phase.Handshake when reader.Sequence == 1:
                OnHandshakeResponse(head, reader.Length);
                return;
            case Phase.Start or Phase.Commands when reader.Sequence == 0 && !reader.Continuation:
                OnCommand(head, reader.Length, partial || head.Length < reader.Length, reader.PacketStartNs);
                return;
            case Phase.Commands when _commands.Count > 0 && !_open:
                // A continuation of a split command (16 MiB and more).
                _commands.Newest.RequestBytes += Wire.HeaderBytes + reader.Length;
                return;
            default:
                return; // authentication data, LOCAL INFILE contents
        }
    }

    private void OnHandshakeResponse(ReadOnlySpan<byte> head, int length)
    {
        if (Handshake.IsSslRequest(head, length))
        {
            _counters.TlsConnections.Increment();
            _phase = Phase.Opaque;
            return;
        }

        if (!Handshake.TryReadResponse(head, out var clientCapabilities, out var database))
        {
            Invalid(StreamSide.Client);
            return;
        }

        if ((_serverCapabilities & clientCapabilities & (Wire.ClientCompress | Wire.ClientZstdCompression)) != 0)
        {
            _counters.CompressedConnections.Increment();
            _phase = Phase.Opaque;
            return;
        }

        _capabilities = _serverCapabilities & clientCapabilities;
        _database = database.IsEmpty ? null : Utf8(database, 256);
        _phase = Phase.Authenticating;
    }

    private void OnCommand(ReadOnlySpan<byte> head, int length, bool partial, long startNs)
    {
        var name = head.IsEmpty ? null : Wire.CommandName(head[0]);
        if (name is null)
        {
            Invalid(StreamSide.Client);
            return;
        }

        _phase = Phase.Commands;
        var code = head[0];
        var command = new PendingCommand
        {
            StartPosition = _client.PacketStartPosition,
            Name = name,
            Operation = StatementType.Other,
            Resource = name,
            Database = _database,
            Kind = Wire.ResponseOf(code),
            RequestBytes = Wire.HeaderBytes + length,
            Truncated = partial,
        };
        switch (code)
        {
            case Command.Query or Command.StmtPrepare:
                Describe(ref command, head[1..], partial, withAttributes: code == Command.Query);
                if (code == Command.StmtPrepare)
                {
                    command.Prepared = _latestPrepared = new PreparedStatement(command.Operation, command.Resource, command.Statement);
                }

                break;
            case Command.InitDb:
                command.DatabaseAfter = Utf8(head[1..], 256);
                break;
            case Command.StmtExecute or Command.StmtBulkExecute or Command.StmtFetch or Command.StmtReset or Command.StmtClose:
                var id = head.Length >= 5 ? BinaryPrimitives.ReadUInt32LittleEndian(head[1..]) : (uint?)null;
                if (code == Command.StmtClose)
                {
                    _prepared?.Remove(id ?? 0);
                    break;
                }

                var statement = id switch
                {
                    null => null,
                    Wire.LastPreparedStatement => _latestPrepared,
                    _ => _prepared?.GetValueOrDefault(id.Value),
                };
                if (statement is null)
                {
                    _counters.UnknownStatements.Increment();
                    command.Resource = UnknownStatement;
                    break;
                }

                command.Operation = statement.Operation;
                command.Resource = statement.Resource;
                command.Statement = statement.Statement;
                break;
        }

        if (command.Kind == ResponseKind.None)
        {
            _counters.CommandsWithoutAnswer.Increment();
            return;
        }

        // Pipelined commands read from one segment share its timestamp, and a time-series store keeps one point per
        // series and timestamp: each command of a connection starts at least 1 ns after the one before.
        _lastCommandStartNs = command.StartNs = Math.Max(startNs, _lastCommandStartNs + 1);
        if (_server.Desynced)
        {
            // The client answers only after the server is done: whatever the server was sending has ended.
            if (_open)
            {
                EmitOpen();
            }

        }

        _skippingAnswer = false;
        if (!_commands.TryEnqueue(command))
        {
            _counters.PipelineOverflow.Increment();
        }
    }

    /// <summary>Fingerprints a statement (after MySQL 8's query attributes, when negotiated) into the command.</summary>
    private void Describe(ref PendingCommand command, ReadOnlySpan<byte> sql, bool partial, bool withAttributes)
    {
        if (withAttributes && (_capabilities & Wire.ClientQueryAttributes) != 0)
        {
            var offset = 0;
            if (!Wire.TryReadLengthEncoded(sql, ref offset, out var parameters) || !Wire.TryReadLengthEncoded(sql, ref offset, out _)
                || parameters != 0)
            {
                command.Resource = "{query attributes}"; // values of attributes are not followed
                return;
            }

            sql = sql[offset..];
        }

        var fingerprint = _protocol.Fingerprinter.Compute(sql, partial);
        command.Operation = fingerprint.Type;
        command.Resource = fingerprint.Text;
        if (_protocol.Options.RecordStatements)
        {
            command.Statement = Utf8(sql, sql.Length);
        }

        if (fingerprint.Text.StartsWith("USE ", StringComparison.Ordinal))
        {
            command.DatabaseAfter = fingerprint.Text[4..].Trim('`', ' ');
        }
    }

    private void OnServerPacket(ref PacketReader reader, ReadOnlySpan<byte> head)
    {
        _lastSequence = reader.Sequence;
        _lastPacketEnd = reader.PacketStartPosition + Wire.HeaderBytes + reader.Length;
        switch (_phase)
        {
            case Phase.Start or Phase.Handshake:
                if (reader.Sequence == 0 && Handshake.TryReadGreeting(head, out var capabilities))
                {
                    _serverCapabilities = capabilities;
                    _phase = Phase.Handshake;
                }
                else
                {
                    _counters.UnmatchedResponses.Increment();
                }

                return;
            case Phase.Authenticating:
                if (!head.IsEmpty && head[0] == Wire.Ok)
                {
                    _phase = Phase.Commands;
                }

                return;
        }

        if (_open)
        {
            _answerBytes += Wire.HeaderBytes + reader.Length;
        }

        if (reader.Continuation || head.IsEmpty)
        {
            return; // the rest of a 16 MiB row, or an empty packet
        }

        if (!_open)
        {
            if (SkipsTrailingPacket(head, reader.Length))
            {
                return;
            }

            CatchLyingClientLength();
            if (!_commands.TryDequeue(out _openCommand))
            {
                if (!_skippingAnswer)
                {
                    _counters.UnmatchedResponses.Increment();
                }

                return;
            }

            if (_commands.Count == 0 && _client.Desynced)
            {
                // The client lost its framing inside this command (a 16 MiB boundary in a gap): it ended where the client stopped.
                _openCommand.RequestBytes = Math.Max(_openCommand.RequestBytes, _clientPosition - _openCommand.StartPosition);
            }

            Open(reader.PacketStartNs, reader.Length);
        }

        OnAnswerPacket(head, reader.Length);
    }

    /// <summary>
    /// A server answers whole commands only: when it answers while the client's only command (or the head of a command
    /// not yet read) is still announced as unfinished, the client's length lied, or the rest was lost in the kernel
    /// and not reported yet (a gap shows with the side's next bytes). The command is taken as it came; the client
    /// side resumes at its next command.
    /// </summary>
    private void CatchLyingClientLength()
    {
        if (_client.Desynced || _phase != Phase.Commands)
        {
            return;
        }

        if (_client.Collecting && _client.Collected > 0 && _commands.Count == 0)
        {
            InspectCollected(StreamSide.Client);
        }
        else if (_client.Collecting || _client.Remaining == 0 || _commands.Count != 1)
        {
            return; // between packets, or collecting a pipelined command's head while an earlier one is answered
        }

        if (!_client.Desynced)
        {
            LoseFraming(StreamSide.Client);
        }

        _serverSpokeSinceClientDesync = true; // it is answering now: the client's next segment starts a command
    }

    private void Open(long startNs, int length)
    {
        _open = true;
        _state = AnswerState.First;
        _firstAnswerNs = startNs;
        _rows = -1;
        _affectedRows = -1;
        _errorCode = -1;
        _sqlState = null;
        _answerTruncated = false;
        _answerBytes = Wire.HeaderBytes + length;
        _recentRowBytes = 0;
    }

    private void OnAnswerPacket(ReadOnlySpan<byte> head, int length)
    {
        var first = head[0];
        switch (_state)
        {
            case AnswerState.First:
                OnFirstPacket(head, length);
                return;
            case AnswerState.Columns:
                if (--_columnsLeft == 0)
                {
                    _state = AnswerState.AfterColumns;
                }

                return;
            case AnswerState.AfterColumns:
                _state = AnswerState.Rows;
                if (first == Wire.Eof && length <= Wire.EofPayload)
                {
                    return; // the EOF after the column definitions: an OK ending the rows is longer
                }

                break;
        }

        if (first == Wire.Eof && length < Wire.MaxPacketPayload)
        {
            EndResult(ReadStatusOfTerminator(head, length));
        }
        else if (first == Wire.Err)
        {
            OnError(head);
        }
        else
        {
            _rows++;
            // The size of the latest rows (a moving mean): those just before a gap are the likeliest size inside it.
            var size = Wire.HeaderBytes + length;
            _recentRowBytes = _recentRowBytes == 0 ? size : _recentRowBytes + ((size - _recentRowBytes) / RecentRows);
        }
    }

    private void OnFirstPacket(ReadOnlySpan<byte> head, int length)
    {
        var first = head[0];
        if (first == Wire.Err)
        {
            OnError(head);
            return;
        }

        switch (_openCommand.Kind)
        {
            case ResponseKind.Status:
                if (first == Wire.Ok)
                {
                    ReadOk(head);
                }

                EmitOpen();
                return;
            case ResponseKind.Unparsed:
                EmitOpen();
                _skippingAnswer = true;
                return;
            case ResponseKind.Prepare:
                OnPrepareOk(head, length);
                return;
            case ResponseKind.Rows:
                _rows = Math.Max(_rows, 0);
                _state = AnswerState.Rows;
                OnAnswerPacket(head, length);
                return;
        }

        switch (first)
        {
            case Wire.Ok:
                EndResult(ReadOk(head));
                return;
            case Wire.Eof:
                EmitOpen();
                return;
            case Wire.LocalInfile:
                return; // the client sends the file, then the server answers with OK or ERR
        }

        var offset = 0;
        if (!Wire.TryReadLengthEncoded(head, ref offset, out var columns) || columns is 0 or > MaxColumns)
        {
            Invalid(StreamSide.Server);
            return;
        }

        // MariaDB's MARIADB_CLIENT_CACHE_METADATA adds a byte: 0 when the column definitions are not sent again.
        var metadataFollows = offset >= length || head.Length <= offset || head[offset] != 0;
        _rows = Math.Max(_rows, 0);
        _columnsLeft = metadataFollows ? (long)columns : 0;
        _state = _columnsLeft > 0 ? AnswerState.Columns : AnswerState.AfterColumns;
    }

    private void OnPrepareOk(ReadOnlySpan<byte> head, int length)
    {
        // PREPARE_OK: 0x00, statement id (4), columns (2), parameters (2), filler, warnings (2).
        if (head[0] != Wire.Ok || length < 9 || head.Length < 9)
        {
            Invalid(StreamSide.Server);
            return;
        }

        var id = BinaryPrimitives.ReadUInt32LittleEndian(head[1..]);
        var columns = BinaryPrimitives.ReadUInt16LittleEndian(head[5..]);
        var parameters = BinaryPrimitives.ReadUInt16LittleEndian(head[7..]);
        if (_openCommand.Prepared is { } statement)
        {
            _prepared ??= [];
            if (_prepared.Count < _protocol.Options.MaxPreparedStatements || _prepared.ContainsKey(id))
            {
                _prepared[id] = statement;
            }
            else
            {
                _counters.PreparedOverflow.Increment();
            }
        }

        EmitOpen();
        _trailingDefinitions = columns + parameters;
        _trailingEofs = (columns > 0 ? 1 : 0) + (parameters > 0 ? 1 : 0);
    }

    /// <summary>The definitions behind a PREPARE_OK, and their EOFs without CLIENT_DEPRECATE_EOF, belong to no new answer.</summary>
    private bool SkipsTrailingPacket(ReadOnlySpan<byte> head, int length)
    {
        if (_trailingEofs > 0 && head[0] == Wire.Eof && length <= Wire.EofPayload)
        {
            _trailingEofs--;
            return true;
        }

        if (_trailingDefinitions > 0)
        {
            _trailingDefinitions--;
            return true;
        }

        _trailingEofs = 0;
        return false;
    }

    /// <summary>A result ended (OK or EOF): another follows while the server says more results exist.</summary>
    private void EndResult(ushort status)
    {
        if ((status & Wire.ServerMoreResultsExist) != 0)
        {
            _state = AnswerState.First;
            return;
        }

        EmitOpen();
    }

    /// <summary>An OK packet's status flags, adding its affected rows.</summary>
    private ushort ReadOk(ReadOnlySpan<byte> head)
    {
        var offset = 1;
        if (!Wire.TryReadLengthEncoded(head, ref offset, out var affected) || !Wire.TryReadLengthEncoded(head, ref offset, out _)
            || offset + 2 > head.Length)
        {
            return 0;
        }

        _affectedRows = Math.Max(_affectedRows, 0) + (long)Math.Min(affected, long.MaxValue / 2);
        return BinaryPrimitives.ReadUInt16LittleEndian(head[offset..]);
    }

    /// <summary>The status flags of the packet ending a result set: an EOF (warnings, status) or, with CLIENT_DEPRECATE_EOF, an OK.</summary>
    private ushort ReadStatusOfTerminator(ReadOnlySpan<byte> head, int length)
    {
        if (length <= Wire.EofPayload)
        {
            return head.Length >= 5 ? BinaryPrimitives.ReadUInt16LittleEndian(head[3..]) : (ushort)0;
        }

        var offset = 1;
        return Wire.TryReadLengthEncoded(head, ref offset, out _) && Wire.TryReadLengthEncoded(head, ref offset, out _)
            && offset + 2 <= head.Length
            ? BinaryPrimitives.ReadUInt16LittleEndian(head[offset..])
            : (ushort)0;
    }

    private void OnError(ReadOnlySpan<byte> head)
    {
        // ERR: 0xFF, error code (2), '#' and the SQLSTATE (5) with CLIENT_PROTOCOL_41, message (never read: it quotes literals).
        var code = head.Length >= 3 ? BinaryPrimitives.ReadUInt16LittleEndian(head[1..]) : 0;
        if (code == 0xFFFF)
        {
            return; // MariaDB progress report, not an error
        }

        _errorCode = code;
        _sqlState = head.Length >= 9 && head[3] == '#' && !head[4..9].ContainsAnyExceptInRange((byte)'0', (byte)'Z')
            ? _protocol.SqlState(head[4..9])
            : null;
        EmitOpen();
    }

    private void EmitOpen()
    {
        if (!_open)
        {
            return;
        }

        ref readonly var command = ref _openCommand;
        var failed = _errorCode >= 0;
        var truncated = command.Truncated || _answerTruncated;
        _output.Emit(new ParsedExchange
        {
            Operation = command.Operation,
            Resource = command.Resource,
            Code = _errorCode,
            Status = failed ? "error" : "ok",
            Outcome = failed ? ExchangeOutcome.Error : ExchangeOutcome.Success,
            StartNs = command.StartNs,
            DurationNs = Math.Max(_firstAnswerNs - command.StartNs, 0),
            RequestBytes = command.RequestBytes,
            ResponseBytes = _answerBytes,
            Details = new MySqlDetails(command.Name, command.Database, _rows, _affectedRows, _sqlState, truncated, command.Statement),
        });
        if (!failed && command.DatabaseAfter is not null)
        {
            _database = command.DatabaseAfter;
        }

        _counters.Exchanges.Increment();
        if (truncated)
        {
            _counters.TruncatedExchanges.Increment();
        }

        _open = false;
        _openCommand = default;
    }

    /// <summary>Bytes never seen inside a packet: the command or answer it belongs to is marked.</summary>
    private void MarkTruncated(StreamSide side)
    {
        if (side == StreamSide.Server)
        {
            _answerTruncated |= _open;
        }
        else if (_commands.Count > 0)
        {
            _commands.Newest.Truncated = true;
        }
    }

    private void Invalid(StreamSide side)
    {
        _counters.InvalidPackets.Increment();
        Desynchronise(side);
    }

    private void LoseFraming(StreamSide side)
    {
        // Inside rows (a large result set) the rows in the gap are estimated once the framing shows again: no loss.
        (side == StreamSide.Server && _open && _state == AnswerState.Rows ? _counters.RowGaps : _counters.Desyncs).Increment();
        Desynchronise(side);
    }

    /// <summary>
    /// A side's packet boundaries are lost. The client's command being sent is marked; an answer being read keeps what
    /// it has (rows are then a lower bound) and ends when its end shows or the next command comes; a command whose
    /// answer had not started yet is lost.
    /// </summary>
    private void Desynchronise(StreamSide side)
    {
        Reader(side).Reset(desynced: true);
        if (_phase is Phase.Handshake or Phase.Authenticating)
        {
            _phase = Phase.Opaque; // the handshake cannot be followed: nothing after it can be trusted
            return;
        }

        if (side == StreamSide.Client)
        {
            _serverSpokeSinceClientDesync = false;
            MarkTruncated(side);
            return;
        }

        _clientSpokeSinceServerDesync = false;
        _answerTruncated |= _open;
        if (!_open && _commands.TryDequeue(out _))
        {
            _counters.UnansweredCommands.Increment();
        }
    }

    /// <summary>
    /// Where a desynchronised side reads packets again in <paramref name="data"/>, or -1. The client resumes once the
    /// server has answered since, at a command starting the data (a captured segment); the server inside rows at a
    /// chain of packets running to the data's end (the rows in between estimated), or once a new command came at a
    /// plausible first answer packet. The end of a result set at the end of the server's data ends the open answer.
    /// </summary>
    private int Resynchronise(StreamSide side, ReadOnlySpan<byte> data, long basePosition)
    {
        if (side == StreamSide.Server && _open && _state == AnswerState.Rows && TryFindRowChain(data, basePosition, out var start))
        {
            return start;
        }

        return TryResynchronise(side, data) ? 0 : -1;
    }

    private bool TryResynchronise(StreamSide side, ReadOnlySpan<byte> data)
    {
        if (data.Length < Wire.HeaderBytes + 1)
        {
            return false;
        }

        var length = Wire.PayloadLength(data);
        var sequence = data[3];
        var first = data[Wire.HeaderBytes];
        if (side == StreamSide.Client)
        {
            if (!_serverSpokeSinceClientDesync || sequence != 0 || length == 0 || Wire.CommandName(first) is null)
            {
                return false;
            }

            _client.Reset(desynced: false);
            return true;
        }

        if (_open && EndsWithTerminator(data, out var status))
        {
            _server.Reset(desynced: false);
            EndResult(status);
            return false; // the data is consumed; the framing restarts after it
        }

        if (!_clientSpokeSinceServerDesync || sequence == 0 || !PlausibleFirstPacket(first, length))
        {
            return false;
        }

        _server.Reset(desynced: false);
        return true;
    }

    /// <summary>
    /// Finds, within the first bytes of <paramref name="data"/>, packets whose sequence ids count on one by one up to
    /// the data's end (at least <see cref="MinChainPackets"/> of them): rows again, after a gap. The rows in the gap are
    /// the packets between the last one read and the chain: their count modulo 256 is known from the sequence ids,
    /// their bytes from the stream positions, and the mean row size read so far picks the count.
    /// </summary>
    private bool TryFindRowChain(ReadOnlySpan<byte> data, long basePosition, out int start)
    {
        var limit = Math.Min(data.Length - Wire.HeaderBytes, MaxChainSearch);
        for (start = 0; start < limit; start++)
        {
            var gapBytes = basePosition + start - _lastPacketEnd;
            if (gapBytes < 0 || !IsPacketChain(data[start..], out var firstSequence, out var chainBytes, out var chainPackets))
            {
                continue;
            }

            // Rows grow or shrink gradually (ids, timestamps): the gap's are sized between the rows on either side of it.
            var after = (double)chainBytes / chainPackets;
            var mean = _recentRowBytes == 0 ? after : (after + _recentRowBytes) / 2;
            _rows += EstimateRows(gapBytes, (byte)(firstSequence - _lastSequence - 1), mean);
            _answerTruncated = true;
            _server.Reset(desynced: false);
            return true;
        }

        start = -1;
        return false;
    }

    private static bool IsPacketChain(ReadOnlySpan<byte> data, out byte firstSequence, out long chainBytes, out int chainPackets)
    {
        firstSequence = data[3];
        chainBytes = 0;
        chainPackets = 0;
        var position = 0;
        var packets = 0;
        while (position + Wire.HeaderBytes <= data.Length)
        {
            var length = Wire.PayloadLength(data[position..]);
            if (length is 0 or Wire.MaxPacketPayload || data[position + 3] != (byte)(firstSequence + packets))
            {
                return false;
            }

            position += Wire.HeaderBytes + length;
            packets++;
            if (packets == RecentRows)
            {
                chainBytes = position; // the size of the rows right after the gap
            }
        }

        chainBytes = packets >= RecentRows ? chainBytes : position;
        chainPackets = Math.Min(packets, RecentRows);
        return packets >= MinChainPackets;
    }

    /// <summary>The count of <paramref name="meanBytes"/>-sized packets in <paramref name="gapBytes"/> that is <paramref name="modulo"/> modulo 256.</summary>
    private static long EstimateRows(long gapBytes, byte modulo, double meanBytes) =>
        modulo + (256 * (long)Math.Max(0, Math.Round((gapBytes / meanBytes - modulo) / 256)));

    private bool PlausibleFirstPacket(byte first, int length)
    {
        if (_commands.Count == 0)
        {
            return false;
        }

        return _commands.Oldest.Kind switch
        {
            ResponseKind.Status => first is Wire.Ok or Wire.Err or Wire.Eof && length < 256,
            ResponseKind.Prepare => (first == Wire.Ok && length == 12) || first == Wire.Err,
            ResponseKind.Results => first is Wire.Ok or Wire.Err or Wire.LocalInfile || (first is > 0 and < 0xFB && length <= 2),
            _ => true,
        };
    }

    /// <summary>Whether <paramref name="data"/> ends with the packet that ends a result set (an EOF, or an OK starting with 0xFE).</summary>
    private static bool EndsWithTerminator(ReadOnlySpan<byte> data, out ushort status)
    {
        status = 0;
        for (var length = Wire.EofPayload; length <= ServerHeadBytes && length + Wire.HeaderBytes <= data.Length; length++)
        {
            var packet = data[^(length + Wire.HeaderBytes)..];
            if (Wire.PayloadLength(packet) != length || packet[Wire.HeaderBytes] != Wire.Eof)
            {
                continue;
            }

            var payload = packet[Wire.HeaderBytes..];
            if (length == Wire.EofPayload)
            {
                status = BinaryPrimitives.ReadUInt16LittleEndian(payload[3..]);
                return true;
            }

            var offset = 1;
            if (Wire.TryReadLengthEncoded(payload, ref offset, out _) && Wire.TryReadLengthEncoded(payload, ref offset, out _)
                && offset + 4 == length)
            {
                status = BinaryPrimitives.ReadUInt16LittleEndian(payload[offset..]);
                return true;
            }
        }

        return false;
    }

    private static string Utf8(ReadOnlySpan<byte> bytes, int maxBytes) => Encoding.UTF8.GetString(bytes[..Math.Min(bytes.Length, maxBytes)]);
}
