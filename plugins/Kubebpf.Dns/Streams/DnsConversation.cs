using System.Buffers.Binary;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using Kubebpf.Dns.Parsing;
using Kubebpf.Dns.Search;
using Kubebpf.Sdk.Events;
using Kubebpf.Sdk.Net;
using Kubebpf.Sdk.Protocols;

namespace Kubebpf.Dns.Streams;

/// <summary>
/// The queries and answers of one flow (a UDP client/server pair, or a TCP connection): each answer paired with the
/// pending query of its transaction id, queries left unanswered past the timeout emitted as TIMEOUT, answered
/// addresses learned, search-path candidates' negative answers held for <see cref="SearchExpansions"/>.
/// Capture thread only.
/// </summary>
internal sealed class DnsConversation(DnsState state, IExchangeOutput output, string transport, bool holdsExpansions)
{
    private readonly List<PendingQuery> _pending = [];
    private readonly List<HeldAnswer> _held = [];

    /// <summary>Whether queries wait for answers or answers for the client's next candidate (the flow must be kept).</summary>
    public bool HasPending => _pending.Count > 0 || _held.Count > 0;

    /// <summary>One whole message of <paramref name="wireBytes"/> bytes (the span may be shorter when the capture cut it).</summary>
    [SkipLocalsInit] // the name buffer is written before it is read
    public void OnMessage(ReadOnlySpan<byte> message, int wireBytes, long timestampNs)
    {
        Span<char> name = stackalloc char[DnsReader.MaxNameChars];
        var status = DnsReader.Read(message, name, out var header, out var question);
        if (status != DnsParseStatus.Ok)
        {
            state.Counters.MalformedMessages.Increment();
            return;
        }

        if (header.IsResponse)
        {
            OnAnswer(message, wireBytes, timestampNs, header, question);
        }
        else
        {
            OnQuery(name[..question.NameLength], wireBytes, timestampNs, header, question);
        }
    }

    /// <summary>Emits the queries unanswered since the timeout and the held answers whose window closed; returns <see cref="HasPending"/>.</summary>
    public bool OnTick(long nowNs)
    {
        for (var i = _pending.Count - 1; i >= 0; i--)
        {
            if (nowNs - _pending[i].StartNs >= state.TimeoutNs)
            {
                EmitTimeout(_pending[i]);
                _pending.RemoveAt(i);
            }
        }

        for (var i = _held.Count - 1; i >= 0; i--)
        {
            if (nowNs >= _held[i].DeadlineNs)
            {
                Release(_held[i], expansion: false);
            }
        }

        return HasPending;
    }

    /// <summary>The flow ended: overdue queries time out, the others are lost (counted), held answers go out as they are.</summary>
    public void OnClose(long nowNs)
    {
        OnTick(nowNs);
        state.Counters.UnansweredQueries.Add(_pending.Count);
        _pending.Clear();
        while (_held.Count > 0)
        {
            Release(_held[^1], expansion: false);
        }
    }

    /// <summary>Emits a held answer: as a search-path expansion (a success), or as it is.</summary>
    public void Release(HeldAnswer answer, bool expansion)
    {
        _held.Remove(answer);
        state.Expansions.Forget(answer);
        if (!expansion)
        {
            Emit(answer.Exchange);
            return;
        }

        state.Counters.SearchExpansions.Increment();
        var details = (DnsDetails)answer.Exchange.Details!;
        Emit(answer.Exchange with { Outcome = ExchangeOutcome.Success, Details = details with { SearchExpansion = true } });
    }

    private void OnQuery(ReadOnlySpan<char> nameChars, int wireBytes, long timestampNs, in DnsHeader header, in DnsQuestion question)
    {
        foreach (var pending in _pending)
        {
            if (pending.Id == header.Id)
            {
                state.Counters.RetransmittedQueries.Increment();
                return;
            }
        }

        if (_pending.Count >= state.Options.MaxPendingQueries)
        {
            state.Counters.PendingOverflow.Increment();
            return;
        }

        var name = new string(nameChars);
        if (output.Flow is { } flow)
        {
            state.Expansions.OnQuery(flow, name);
        }

        _pending.Add(new PendingQuery(header.Id, DnsNames.Type(question.Type), name, timestampNs, wireBytes));
    }

    private void OnAnswer(ReadOnlySpan<byte> message, int wireBytes, long timestampNs, in DnsHeader header, in DnsQuestion question)
    {
        var index = _pending.Count - 1;
        while (index >= 0 && _pending[index].Id != header.Id)
        {
            index--;
        }

        if (index < 0)
        {
            state.Counters.UnmatchedAnswers.Increment();
            return;
        }

        var query = _pending[index];
        _pending.RemoveAt(index);

        var address = ReadAnswers(message, header, question, query.Name, timestampNs);
        var exchange = new ParsedExchange
        {
            Operation = query.Type,
            Resource = query.Name,
            Code = header.Rcode,
            Status = DnsNames.Rcode(header.Rcode),
            Outcome = header.Rcode switch
            {
                0 => ExchangeOutcome.Success,
                1 or 3 => ExchangeOutcome.ClientError, // FORMERR, NXDOMAIN: the question's fault
                _ => ExchangeOutcome.Error,
            },
            StartNs = query.StartNs,
            DurationNs = Math.Max(0, timestampNs - query.StartNs),
            RequestBytes = query.Bytes,
            ResponseBytes = wireBytes,
            Details = new DnsDetails(transport, header.AnswerCount, header.Truncated, address?.AddressText, SearchExpansion: false),
        };

        var negative = header.Rcode == 3 || (header.Rcode == 0 && header.AnswerCount == 0);
        if (negative && holdsExpansions && output.Flow is { } flow && state.Expansions.TryHold(flow, this, exchange, timestampNs) is { } held)
        {
            _held.Add(held);
            return;
        }

        Emit(exchange);
    }

    /// <summary>Learns every A and AAAA address answered; returns the first.</summary>
    private NetworkEndpoint? ReadAnswers(ReadOnlySpan<byte> message, in DnsHeader header, in DnsQuestion question, string name, long timestampNs)
    {
        NetworkEndpoint? first = null;
        var answers = new DnsAnswerReader(message, header, question);
        while (answers.TryNext(out var type, out var ttl, out var data))
        {
            NetworkEndpoint address;
            if (type == 1 && data.Length == 4)
            {
                address = new NetworkEndpoint(AddressFamily.InterNetwork, BinaryPrimitives.ReadUInt32BigEndian(data), 0);
            }
            else if (type == 28 && data.Length == 16)
            {
                address = NetworkEndpoint.FromRaw(isIPv6: true, data, 0);
            }
            else
            {
                continue;
            }

            first ??= address;
            state.Names.Learn(address, name, ttl, timestampNs);
        }

        return first;
    }

    private void EmitTimeout(in PendingQuery query)
    {
        state.Counters.Timeouts.Increment();
        Emit(new ParsedExchange
        {
            Operation = query.Type,
            Resource = query.Name,
            Code = -1,
            Status = DnsNames.Timeout,
            Outcome = ExchangeOutcome.Timeout,
            StartNs = query.StartNs,
            DurationNs = state.TimeoutNs,
            RequestBytes = query.Bytes,
            ResponseBytes = -1,
            Details = DnsDetails.TimedOut(transport),
        });
    }

    private void Emit(in ParsedExchange exchange)
    {
        state.Counters.Exchanges.Increment();
        output.Emit(exchange);
    }

    private readonly record struct PendingQuery(ushort Id, string Type, string Name, long StartNs, int Bytes);
}
