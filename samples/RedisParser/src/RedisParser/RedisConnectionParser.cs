using Kubebpf.Sdk.Events;
using Kubebpf.Sdk.Protocols;

namespace RedisParser;

/// <summary>
/// Pairs one connection's commands with its replies. Redis answers in order, so a queue of pending commands is all the
/// pairing needs: each complete reply belongs to the oldest command waiting. Pipelined commands queue up (to
/// <see cref="RedisOptions.MaxPipelinedCommands"/>, beyond which they are counted and their replies skipped); RESP3
/// pushes are never replies; after SUBSCRIBE or MONITOR the server streams messages, so pairing stops.
/// When a side loses its place (bytes that are not RESP, or a gap), the pending commands are dropped and pairing
/// restarts at the next segment that starts a command, and for replies at the first reply-like segment after it.
/// </summary>
internal sealed class RedisConnectionParser : IStreamParser
{
    private readonly IExchangeOutput _output;
    private readonly RedisCounters _counters;
    private readonly int _maxPipelined;
    private readonly RespReader _commands = new(commands: true, RedisCommands.Name);
    private readonly RespReader _replies = new(commands: false, RespErrors.Class);
    private readonly Queue<PendingCommand> _pending = new();
    private long _untracked;
    private long _commandStartNs;
    private long _lastCommandStartNs;
    private long _replyStartNs;
    private bool _commandsResyncing;
    private bool _repliesResyncing;
    private bool _commandsStopped;
    private bool _stopped;

    public RedisConnectionParser(IExchangeOutput output, RedisCounters counters, int maxPipelinedCommands)
    {
        _output = output;
        _counters = counters;
        _maxPipelined = maxPipelinedCommands;
    }

    public int OnData(in StreamChunk chunk, ReadOnlySpan<byte> data)
    {
        if (_stopped)
        {
            return data.Length;
        }

        return chunk.Side == StreamSide.Client ? ReadCommands(chunk, data) : ReadReplies(chunk, data);
    }

    public void OnGap(StreamSide side, long bytes, long timestampNs)
    {
        // A gap inside a bulk payload (a value larger than the capture keeps) costs nothing: the payload is skipped anyway.
        // A side already looking for its place, or no longer parsed, loses nothing more.
        var (reader, ignored) = side == StreamSide.Client ? (_commands, _commandsResyncing || _commandsStopped) : (_replies, _repliesResyncing);
        if (!_stopped && !ignored && !reader.TrySkip(bytes))
        {
            Desync(side);
        }
    }

    public bool OnFin(StreamSide side, long timestampNs) =>
        side == StreamSide.Client && !_stopped && (_pending.Count > 0 || _untracked > 0); // replies may still come

    public void OnClose(long timestampNs)
    {
        // A reply cut by the close still answered its command: its kind is known from its first byte.
        if (!_stopped && _replies.InValue && _replies.Type is not (0 or (byte)'>') && _pending.TryDequeue(out var command))
        {
            Emit(command);
        }

        _counters.UnansweredCommands.Add(_pending.Count + _untracked);
        _pending.Clear();
        _untracked = 0;
    }

    private int ReadCommands(in StreamChunk chunk, ReadOnlySpan<byte> data)
    {
        if (_commandsStopped)
        {
            return data.Length;
        }

        if (_commandsResyncing)
        {
            if (!RespReader.LooksLikeCommandStart(data))
            {
                return data.Length;
            }

            _commandsResyncing = false;
        }

        var offset = 0;
        while (offset < data.Length)
        {
            var start = offset;
            var starting = !_commands.InValue;
            var step = _commands.Read(data, ref offset);
            if (starting && offset > start)
            {
                // Pipelined commands in one segment share its time: each starts 1 ns after the one before, so that every
                // exchange keeps its own call-log point (InfluxDB keeps one point per series and timestamp).
                var startNs = StartTime(chunk, start);
                _commandStartNs = _lastCommandStartNs = startNs > _lastCommandStartNs ? startNs : _lastCommandStartNs + 1;
            }

            switch (step)
            {
                case RespStep.NeedMoreData:
                    return offset;
                case RespStep.Invalid:
                    Desync(StreamSide.Client);
                    return data.Length;
                default:
                    OnCommand();
                    if (_commandsStopped)
                    {
                        return data.Length;
                    }

                    break;
            }
        }

        return offset;
    }

    private int ReadReplies(in StreamChunk chunk, ReadOnlySpan<byte> data)
    {
        if (_repliesResyncing)
        {
            // Resume only at a segment that starts like a reply and came after a command sent since the desync: with a
            // client that waits for each reply, that segment is the reply to it.
            if (data.IsEmpty || !RespReader.IsType(data[0]) || !_pending.TryPeek(out var next) || chunk.TimestampNs < next.StartNs)
            {
                return data.Length;
            }

            _repliesResyncing = false;
        }

        var offset = 0;
        while (offset < data.Length)
        {
            var start = offset;
            var starting = !_replies.InValue;
            var step = _replies.Read(data, ref offset);
            if (starting && offset > start)
            {
                _replyStartNs = StartTime(chunk, start);
            }

            switch (step)
            {
                case RespStep.NeedMoreData:
                    return offset;
                case RespStep.Invalid:
                    Desync(StreamSide.Server);
                    return data.Length;
                default:
                    OnReply();
                    if (_stopped)
                    {
                        return data.Length;
                    }

                    break;
            }
        }

        return offset;
    }

    private void OnCommand()
    {
        if (_commands.Word is not { } name)
        {
            return; // an empty array or line: Redis ignores it and does not answer
        }

        var streams = RedisCommands.StartsMessageStream(name);
        if (_untracked > 0 || _pending.Count >= _maxPipelined)
        {
            _untracked++;
            _counters.UntrackedCommands.Increment();
            if (streams)
            {
                StopPairing(); // its reply cannot be told from the replies skipped before it
            }

            return;
        }

        _pending.Enqueue(new PendingCommand(name, _commandStartNs, _commands.Size, streams));
        _commandsStopped = streams; // what the client sends next is not answered in order any more
    }

    private void OnReply()
    {
        if (_replies.Type == '>')
        {
            _counters.PushMessages.Increment();
        }
        else if (_pending.TryDequeue(out var command))
        {
            if (command.StartsMessageStream)
            {
                StopPairing();
            }
            else
            {
                Emit(command);
            }
        }
        else if (_untracked > 0)
        {
            _untracked--;
        }
        else
        {
            _counters.UnmatchedReplies.Increment();
        }
    }

    private void Emit(in PendingCommand command)
    {
        var error = _replies.Type is (byte)'-' or (byte)'!';
        _output.Emit(new ParsedExchange
        {
            Operation = command.Name,
            Resource = "",
            Code = -1,
            Status = error ? _replies.Word ?? RespErrors.Generic : "ok",
            Outcome = error ? ExchangeOutcome.Error : ExchangeOutcome.Success,
            StartNs = command.StartNs,
            DurationNs = Math.Max(0, _replyStartNs - command.StartNs),
            RequestBytes = command.Bytes,
            ResponseBytes = _replies.Size,
            Details = RedisReplyDetails.For(_replies.Type, _replies.IsNull),
        });
        _counters.Exchanges.Increment();
    }

    private void Desync(StreamSide side)
    {
        _counters.Desyncs.Increment();
        _counters.UnansweredCommands.Add(_pending.Count + _untracked);
        _pending.Clear();
        _untracked = 0;
        // Replies for the dropped commands may still come, and how many is unknown: the reply side always starts over.
        _replies.Reset();
        _repliesResyncing = true;
        if (side == StreamSide.Client)
        {
            _commands.Reset();
            _commandsResyncing = true;
        }
    }

    private void StopPairing()
    {
        _stopped = true;
        _pending.Clear();
        _untracked = 0;
        _counters.UnpairedConnections.Increment();
    }

    // Bytes at offset 0 may have been kept from an earlier segment, whose time the chunk gives; anything later in the
    // data came with the newest segment (everything before it was consumed).
    private static long StartTime(in StreamChunk chunk, int offset) => offset == 0 ? chunk.FirstByteNs : chunk.TimestampNs;

    private readonly record struct PendingCommand(string Name, long StartNs, long Bytes, bool StartsMessageStream);
}
