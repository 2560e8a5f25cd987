using System.Runtime.InteropServices;
using Kubebpf.Capture.Capture;
using Kubebpf.Sdk.Events;
using Kubebpf.Sdk.Metadata;
using Kubebpf.Sdk.Net;
using Kubebpf.Sdk.Pipeline;
using Kubebpf.Sdk.Protocols;

namespace Kubebpf.Capture.Flows;

/// <summary>
/// The one place packets become flows: follows each TCP connection by sequence number (retransmissions skipped,
/// gaps reported, FIN/RST, reuse of a 4-tuple after a new SYN), keeps UDP flows per endpoint pair, offers each new
/// flow to the registered protocols, feeds the claiming protocol's parser in order (keeping what it leaves
/// unconsumed), names its exchanges (endpoints, direction, interface, workloads) and publishes them once per batch.
/// Every flow is bounded (<see cref="FlowTrackerOptions.MaxFlows"/>, idle timeouts) and every loss counted.
/// </summary>
/// <remarks>
/// Not thread-safe: one capture thread calls <see cref="OnPacket"/>, <see cref="OnBatchEnd"/>, <see cref="Tick"/> and
/// <see cref="CloseAll"/>. A parser that throws disables its protocol (its plugin instance is reported failed) and
/// the capture carries on.
/// </remarks>
internal sealed class FlowTracker : IPacketConsumer
{
    private const int MaxSpareFlows = 1024;

    private readonly FlowTrackerOptions _options;
    private readonly FlowCounters _counters;
    private readonly FlowTable _table = new();
    private readonly Stack<TcpFlow> _spare = new();
    private readonly ClosedConnections _closed = new();
    private readonly ProtocolSet<IStreamProtocol> _streamProtocols;
    private readonly ProtocolSet<IDatagramProtocol> _datagramProtocols;
    private readonly IWorkloadResolver? _resolver;
    private readonly Action<ReadOnlySpan<Exchange>> _publish;
    private readonly Action<ReadOnlySpan<TcpConnectionReport>>? _publishConnections;
    private readonly Func<bool> _wantsConnections;
    private readonly List<Exchange> _completed = new(256);
    private readonly List<TcpConnectionReport> _reports = new(256);
    private readonly long _idleNs;
    private readonly long _datagramIdleNs;
    private readonly long _handshakeTimeoutNs;
    private readonly long _reportIntervalNs;

    // The flow whose packet is being processed: a parser exception during it is that flow's protocol's failure.
    private Flow? _active;

    public FlowTracker(
        FlowTrackerOptions options,
        IAgentMetrics metrics,
        IReadOnlyList<ProtocolRegistration<IStreamProtocol>> streamProtocols,
        IReadOnlyList<ProtocolRegistration<IDatagramProtocol>> datagramProtocols,
        IWorkloadResolver? resolver,
        Action<ReadOnlySpan<Exchange>> publish,
        Action<ReadOnlySpan<TcpConnectionReport>>? publishConnections = null,
        Func<bool>? wantsConnections = null)
    {
        _options = options;
        _counters = new FlowCounters(metrics);
        KeptBytes = new KeptBytesBudget(options.KeptBytesBudget, metrics);
        _streamProtocols = new ProtocolSet<IStreamProtocol>(streamProtocols, _counters);
        _datagramProtocols = new ProtocolSet<IDatagramProtocol>(datagramProtocols, _counters);
        _resolver = resolver;
        _publish = publish;
        _publishConnections = publishConnections;
        // A report costs two or three metadata lookups: none are made while nobody (no service map) takes them.
        _wantsConnections = publishConnections is null ? static () => false : wantsConnections ?? (static () => true);
        _idleNs = (long)options.IdleTimeout.TotalNanoseconds;
        _datagramIdleNs = (long)options.DatagramIdleTimeout.TotalNanoseconds;
        _handshakeTimeoutNs = (long)options.HandshakeTimeout.TotalNanoseconds;
        _reportIntervalNs = (long)options.ConnectionReportInterval.TotalNanoseconds;
        metrics.Gauge("tracked_flows", "TCP connections and UDP flows tracked now", () => _table.Count);
    }

    /// <summary>Added to CLOCK_MONOTONIC timestamps to make Unix times; the owner refreshes it as the clocks drift.</summary>
    public long MonotonicToUnixOffsetNs { get; set; }

    public int TrackedFlows => _table.Count;

    /// <summary>The budget every flow's kept bytes are charged to.</summary>
    public KeptBytesBudget KeptBytes { get; }

    public void OnPacket(in PacketHeader header, ReadOnlySpan<byte> payload, bool towardsEndpoint, string interfaceName)
    {
        var key = FlowKey.Of(header, out var fromLow);
        var length = (int)Math.Min(header.PayloadLength, int.MaxValue);
        var packet = new Packet(
            fromLow ? 0 : 1,
            (long)header.TimestampNs,
            header.Seq,
            header.TcpFlags,
            length,
            towardsEndpoint,
            interfaceName);
        var captured = payload.Length > length ? payload[..length] : payload;
        try
        {
            if (key.IsUdp)
            {
                OnDatagram(key, packet, captured, header);
            }
            else
            {
                OnSegment(key, packet, captured);
            }
        }
        catch (Exception ex) when (_active is not null)
        {
            Fail(_active, ex);
        }
        finally
        {
            _active = null;
        }
    }

    /// <summary>Publishes the exchanges completed and the connection reports made since the last batch.</summary>
    public void OnBatchEnd()
    {
        if (_completed.Count > 0)
        {
            var completed = CollectionsMarshal.AsSpan(_completed);
            _counters.Exchanges.Add(completed.Length);
            _publish(completed);
            _completed.Clear();
        }

        if (_reports.Count > 0)
        {
            _publishConnections?.Invoke(CollectionsMarshal.AsSpan(_reports));
            _reports.Clear();
        }
    }

    /// <summary>
    /// Housekeeping, about once a second: lets datagram parsers time out their requests, closes flows idle past their
    /// timeout, and publishes what that completed.
    /// </summary>
    public void Tick(long nowMonotonicNs)
    {
        for (var flow = _table.Oldest; flow is not null;)
        {
            var next = flow.Newer;
            if (flow is UdpFlow udp && !udp.Protocol.Failed)
            {
                try
                {
                    udp.HasPending = udp.Parser.OnTick(nowMonotonicNs);
                }
                catch (Exception ex)
                {
                    Fail(udp, ex);
                }
            }

            if (flow is TcpFlow tcp)
            {
                AccountTick(tcp, nowMonotonicNs);
            }

            var idleNs = flow is UdpFlow { HasPending: false } ? _datagramIdleNs : _idleNs;
            if (flow is not UdpFlow { HasPending: true } && nowMonotonicNs - flow.LastSeenNs >= idleNs)
            {
                _counters.IdleFlows.Increment();
                End(flow, nowMonotonicNs);
            }

            flow = next;
        }

        OnBatchEnd();
    }

    /// <summary>Closes every flow (at shutdown) and publishes what that completed.</summary>
    public void CloseAll(long nowMonotonicNs)
    {
        while (_table.Oldest is { } flow)
        {
            End(flow, nowMonotonicNs);
        }

        OnBatchEnd();
    }

    /// <summary>Builds the exchange a flow's parser reports, with the flow's endpoints, direction and names.</summary>
    internal void Emit(Flow flow, in ParsedExchange parsed)
    {
        var client = flow.Endpoint(flow.ClientSide);
        var server = flow.Endpoint(1 - flow.ClientSide);
        var direction = flow.ClientTowardsEndpoint ? TrafficDirection.In : TrafficDirection.Out;
        var (local, remote) = direction == TrafficDirection.In ? (server, client) : (client, server);
        _completed.Add(new Exchange
        {
            Protocol = flow.Descriptor!,
            Operation = parsed.Operation,
            Resource = parsed.Resource,
            Code = parsed.Code,
            Status = parsed.Status,
            Outcome = parsed.Outcome,
            StartUnixNs = parsed.StartNs + MonotonicToUnixOffsetNs,
            DurationNs = parsed.DurationNs,
            RequestBytes = parsed.RequestBytes,
            ResponseBytes = parsed.ResponseBytes,
            Details = parsed.Details,
            Transport = flow.Key.IsUdp ? Transport.Udp : Transport.Tcp,
            Client = client,
            Server = server,
            Direction = direction,
            Interface = flow.Interface,
            Workload = ObservedWorkload(flow, local),
            Peer = _resolver?.ResolveEndpoint(remote),
        });
    }

    private WorkloadIdentity? ObservedWorkload(Flow flow, in NetworkEndpoint local) =>
        _resolver is null ? null : _resolver.ResolveInterface(flow.Interface) ?? _resolver.ResolveEndpoint(local);

    /// <summary>Decides a handshake left unanswered too long, and reports a connection whose news are due.</summary>
    private void AccountTick(TcpFlow flow, long nowNs)
    {
        ref var account = ref flow.Account;
        if (account.AwaitingAnswer && nowNs - account.SynNs >= _handshakeTimeoutNs)
        {
            account.Decide(HandshakeOutcome.TimedOut);
        }

        if (account.HandshakePending || (account.HasNews && nowNs - account.ReportedNs >= _reportIntervalNs))
        {
            Report(flow, nowNs, closed: false);
        }
    }

    /// <summary>Queues the connection's figures since its previous report for the next batch.</summary>
    private void Report(TcpFlow flow, long nowNs, bool closed)
    {
        ref var account = ref flow.Account;
        if (!_wantsConnections())
        {
            account.MarkReported(nowNs);
            return;
        }

        var clientSide = flow.InitiatorSide != Flow.UnknownSide ? flow.InitiatorSide
            : flow.ClientSide != Flow.UnknownSide ? flow.ClientSide
            : flow.Key.Low.Port >= flow.Key.High.Port ? 0 : 1; // seen mid-stream, unclassified: the ephemeral port is the client's
        var client = flow.Endpoint(clientSide);
        var server = flow.Endpoint(1 - clientSide);
        var direction = flow.TowardsEndpoint(clientSide) ? TrafficDirection.In : TrafficDirection.Out;
        var (local, remote) = direction == TrafficDirection.In ? (server, client) : (client, server);
        var clientIsLow = clientSide == 0;
        _reports.Add(new TcpConnectionReport
        {
            Client = client,
            Server = server,
            Direction = direction,
            Interface = flow.Interface,
            Workload = ObservedWorkload(flow, local),
            Peer = _resolver?.ResolveEndpoint(remote),
            ReportUnixNs = nowNs + MonotonicToUnixOffsetNs,
            Opened = !account.Reported,
            Closed = closed,
            Connected = account.HandshakePending && account.Handshake == HandshakeOutcome.Connected,
            Refused = account.HandshakePending && account.Handshake == HandshakeOutcome.Refused,
            TimedOut = account.HandshakePending && account.Handshake == HandshakeOutcome.TimedOut,
            ConnectTimeNs = account.ConnectTimeNs,
            ClientBytes = clientIsLow ? account.LowBytes : account.HighBytes,
            ServerBytes = clientIsLow ? account.HighBytes : account.LowBytes,
            ClientRetransmissions = clientIsLow ? account.LowRetransmissions : account.HighRetransmissions,
            ServerRetransmissions = clientIsLow ? account.HighRetransmissions : account.LowRetransmissions,
        });
        account.MarkReported(nowNs);
    }

    private void OnSegment(in FlowKey key, in Packet packet, ReadOnlySpan<byte> captured)
    {
        var side = packet.Side;
        var existing = _table.TryGet(key, out var found) ? (TcpFlow)found : null;
        if ((packet.Flags & PacketHeader.Syn) != 0)
        {
            existing = OnSyn(existing, key, packet);
            if (packet.Length == 0)
            {
                existing.Saw(side, packet.TowardsEndpoint); // an unanswered SYN's flow has no other packet to tell its direction
                return;
            }
        }
        else if (existing is null)
        {
            if (packet.Length == 0)
            {
                _counters.UntrackedControl.Increment(); // a FIN or RST of a connection not tracked: no state for it
                return;
            }

            if (_closed.IsLate(key, side, packet.Seq, packet.Length, packet.TimestampNs))
            {
                _counters.Retransmissions.Increment(); // bytes its flow had before it closed
                return;
            }

            existing = AddTcpFlow(key, packet);
        }
        else
        {
            _table.Touch(existing, packet.TimestampNs);
        }

        var flow = existing;
        _active = flow;
        flow.Saw(side, packet.TowardsEndpoint);
        if (flow.State == TcpFlowState.Parsing && flow.Protocol!.Failed)
        {
            flow.Ignore();
        }

        if (packet.Length > 0)
        {
            Receive(flow, side, (packet.Flags & PacketHeader.Syn) != 0 ? packet.Seq + 1 : packet.Seq, captured, packet);
        }

        if ((packet.Flags & PacketHeader.Rst) != 0)
        {
            if (flow.Account.AwaitingAnswer && side != flow.InitiatorSide)
            {
                flow.Account.Decide(HandshakeOutcome.Refused);
            }

            _closed.Remember(flow, packet.TimestampNs);
            End(flow, packet.TimestampNs);
        }
        else if ((packet.Flags & PacketHeader.Fin) != 0)
        {
            OnFin(flow, side, packet.TimestampNs);
        }
    }

    /// <summary>A SYN or SYN-ACK: starts a flow, or a new one when a finished connection's 4-tuple is reused.</summary>
    private TcpFlow OnSyn(TcpFlow? existing, in FlowKey key, in Packet packet)
    {
        var side = packet.Side;
        if (existing is not null)
        {
            var direction = existing.Direction(side);
            if (!direction.HasSequence || direction.NextSequence == packet.Seq + 1)
            {
                // This connection's SYN-ACK, or a retransmitted SYN.
                StartSequence(existing, side, packet);
                _table.Touch(existing, packet.TimestampNs);
                AccountSyn(existing, packet);
                return existing;
            }

            if (existing.Account.AwaitingAnswer)
            {
                // A new attempt from the same port: the client gave up on the unanswered one.
                existing.Account.Decide(HandshakeOutcome.TimedOut);
            }

            End(existing, packet.TimestampNs);
        }

        var flow = AddTcpFlow(key, packet);
        StartSequence(flow, side, packet);
        AccountSyn(flow, packet);
        return flow;
    }

    /// <summary>The initiator's first SYN starts the connect time; the SYN-ACK ends it (a SYN-ACK seen alone is a connect without a time).</summary>
    private static void AccountSyn(TcpFlow flow, in Packet packet)
    {
        ref var account = ref flow.Account;
        if ((packet.Flags & PacketHeader.Ack) == 0)
        {
            if (account.SynNs == 0 && !account.Reported && account.Handshake == HandshakeOutcome.Unknown)
            {
                account.SynNs = Math.Max(packet.TimestampNs, 1);
            }
        }
        else if (account.Handshake is HandshakeOutcome.Unknown or HandshakeOutcome.TimedOut)
        {
            account.Decide(HandshakeOutcome.Connected, account.SynNs == 0 ? 0 : packet.TimestampNs - account.SynNs);
        }
    }

    private static void StartSequence(TcpFlow flow, int side, in Packet packet)
    {
        var direction = flow.Direction(side);
        if (!direction.HasSequence)
        {
            direction.HasSequence = true;
            direction.NextSequence = packet.Seq + 1; // the SYN takes one sequence number
        }

        flow.InitiatorSide = (packet.Flags & PacketHeader.Ack) == 0 ? side : 1 - side;
    }

    private TcpFlow AddTcpFlow(in FlowKey key, in Packet packet)
    {
        MakeRoom(packet.TimestampNs);
        var flow = _spare.TryPop(out var spare) ? spare : new TcpFlow(this);
        flow.Reset(key, packet.InterfaceName, packet.TimestampNs);
        _table.Add(flow);
        return flow;
    }

    private void MakeRoom(long nowNs)
    {
        if (_table.Count >= _options.MaxFlows && _table.Oldest is { } leastRecent)
        {
            _counters.EvictedFlows.Increment();
            End(leastRecent, nowNs);
        }
    }

    /// <summary>Applies sequence arithmetic, then hands the new bytes on.</summary>
    private void Receive(TcpFlow flow, int side, uint seq, ReadOnlySpan<byte> captured, in Packet packet)
    {
        var length = packet.Length;
        var direction = flow.Direction(side);
        if (direction.HasSequence)
        {
            var ahead = (long)(int)(seq - direction.NextSequence);
            if (ahead < 0)
            {
                _counters.Retransmissions.Increment();
                flow.Account.AddRetransmission(side);
                var seen = (int)Math.Min(-ahead, int.MaxValue);
                if (seen >= length)
                {
                    return;
                }

                // Retransmitted with new bytes after the old ones (re-segmentation): keep only the new ones.
                captured = seen < captured.Length ? captured[seen..] : [];
                seq += (uint)seen;
                length -= seen;
            }
            else if (ahead > 0)
            {
                if (flow.State == TcpFlowState.Parsing)
                {
                    _counters.StreamGaps.Increment();
                }

                Gap(flow, side, ahead, packet.TimestampNs);
                flow.Account.AddBytes(side, ahead); // sent, but not captured
            }
        }

        flow.Account.AddBytes(side, length);
        direction.HasSequence = true;
        direction.NextSequence = seq + (uint)length;
        flow.SawPayload = true;
        if (!captured.IsEmpty)
        {
            Data(flow, side, captured, packet);
        }

        if (length > captured.Length && flow.State != TcpFlowState.Ignored)
        {
            Gap(flow, side, length - captured.Length, packet.TimestampNs);
        }
    }

    private void Data(TcpFlow flow, int side, ReadOnlySpan<byte> bytes, in Packet packet)
    {
        switch (flow.State)
        {
            case TcpFlowState.Parsing:
                Feed(flow, side, bytes, packet.TimestampNs);
                break;
            case TcpFlowState.Unclassified:
                Classify(flow, side, bytes, packet);
                break;
        }
    }

    /// <summary>
    /// Offers the start of a record to the protocols: first joined to the bytes kept while a protocol asked for more,
    /// then, if those are refused, on its own (the record may start a message the kept bytes only preceded).
    /// </summary>
    private void Classify(TcpFlow flow, int side, ReadOnlySpan<byte> bytes, in Packet packet)
    {
        var direction = flow.Direction(side);
        if (direction.Kept > 0)
        {
            // Refused by the budget: the kept bytes are gone, and the record is offered on its own below.
            var appended = direction.Append(bytes, ProtocolMatch.MaxSniffBytes, packet.TimestampNs);
            if (appended != StreamDirection.Refused)
            {
                if (TryClassify(flow, side, direction.KeptBytes, out var mayClaim))
                {
                    Feed(flow, side, bytes[appended..], packet.TimestampNs); // the parser reads the kept bytes first
                    return;
                }

                if (mayClaim && direction.Kept < ProtocolMatch.MaxSniffBytes)
                {
                    return;
                }
            }

            direction.Release();
            flow.SniffAttempts++;
        }

        if (TryClassify(flow, side, bytes, out var mayClaimRecord))
        {
            Feed(flow, side, bytes, packet.TimestampNs);
        }
        else if (mayClaimRecord && bytes.Length < ProtocolMatch.MaxSniffBytes)
        {
            direction.Append(bytes, ProtocolMatch.MaxSniffBytes, packet.TimestampNs);
        }
        else if (++flow.SniffAttempts >= _options.MaxSniffAttempts)
        {
            flow.Ignore();
        }
    }

    /// <summary>Classifies the flow when a protocol claims <paramref name="data"/>; <paramref name="mayClaim"/> says one asked for more.</summary>
    private bool TryClassify(TcpFlow flow, int side, ReadOnlySpan<byte> data, out bool mayClaim)
    {
        var sender = flow.Endpoint(side);
        var receiver = flow.Endpoint(1 - side);
        var context = new SniffContext(sender.Port, receiver.Port, flow.InitiatorSide == Flow.UnknownSide ? null : flow.InitiatorSide == side);
        var protocol = _streamProtocols.Classify(data, context, out var result);
        mayClaim = result == SniffResult.NeedMoreData;
        if (protocol is null)
        {
            return false;
        }

        if (flow.SniffAttempts > 0 && flow.InitiatorSide != Flow.UnknownSide)
        {
            _counters.LateClassifiedFlows.Increment();
        }

        flow.Classify(protocol, result == SniffResult.SenderIsClient ? side : 1 - side);
        return true;
    }

    /// <summary>
    /// Hands a parser its side's bytes: the kept ones first, with the new ones appended as far as its buffer allows,
    /// and keeps what it leaves. Without kept bytes the record is handed over in place, with no copy.
    /// </summary>
    private void Feed(TcpFlow flow, int side, ReadOnlySpan<byte> bytes, long nowNs)
    {
        var direction = flow.Direction(side);
        var parser = flow.Parser!;
        var role = flow.Role(side);
        var limit = flow.Protocol!.MaxBufferedBytes;
        while (true)
        {
            if (direction.Kept == 0)
            {
                if (bytes.IsEmpty)
                {
                    return;
                }

                var consumed = Checked(flow, parser.OnData(new StreamChunk(role, nowNs, nowNs), bytes), bytes.Length);
                var rest = bytes[consumed..];
                if (rest.Length > limit)
                {
                    Overflow(flow, side, rest.Length, nowNs);
                }
                else if (!rest.IsEmpty && direction.Append(rest, limit, nowNs) == StreamDirection.Refused)
                {
                    Lost(flow, side, rest.Length, nowNs);
                }

                return;
            }

            var kept = direction.Kept;
            var appended = direction.Append(bytes, limit, nowNs);
            if (appended == StreamDirection.Refused)
            {
                Lost(flow, side, kept + bytes.Length, nowNs);
                return;
            }

            bytes = bytes[appended..];
            var keptConsumed = Checked(flow, parser.OnData(new StreamChunk(role, direction.KeptFirstNs, nowNs), direction.KeptBytes), direction.Kept);
            if (keptConsumed == 0 && !bytes.IsEmpty)
            {
                // The buffer is full and the parser still needs more: what is kept and what did not fit are lost.
                Overflow(flow, side, direction.Kept + bytes.Length, nowNs);
                return;
            }

            direction.Consume(keptConsumed);
            if (bytes.IsEmpty)
            {
                return;
            }
        }
    }

    private int Checked(TcpFlow flow, int consumed, int length) =>
        consumed >= 0 && consumed <= length
            ? consumed
            : throw new InvalidOperationException($"The {flow.Descriptor} parser reported {consumed} bytes consumed of {length}.");

    private void Overflow(TcpFlow flow, int side, int lostBytes, long nowNs)
    {
        _counters.BufferOverflows.Increment();
        Lost(flow, side, lostBytes, nowNs);
    }

    // Kept bytes dropped (already counted: an overflow, or the budget): the parser skips them as a gap.
    private static void Lost(TcpFlow flow, int side, int lostBytes, long nowNs)
    {
        flow.Direction(side).Release();
        flow.Parser!.OnGap(flow.Role(side), lostBytes, nowNs);
    }

    /// <summary>
    /// Bytes of a side that will never be seen, lost or not copied by design (a binary segment's tail): a parser skips
    /// them inside a body and resynchronises elsewhere; sniffing starts over.
    /// </summary>
    private void Gap(TcpFlow flow, int side, long bytes, long nowNs)
    {
        flow.Direction(side).Release();
        if (flow.State == TcpFlowState.Parsing)
        {
            flow.Parser!.OnGap(flow.Role(side), bytes, nowNs);
        }
    }

    private void OnFin(TcpFlow flow, int side, long nowNs)
    {
        flow.Direction(side).Finished = true;
        var otherFinished = flow.Direction(1 - side).Finished;
        var keep = flow.State == TcpFlowState.Parsing
            ? flow.Parser!.OnFin(flow.Role(side), nowNs)
            : !otherFinished;
        if (!keep || otherFinished)
        {
            _closed.Remember(flow, nowNs);
            End(flow, nowNs);
        }
    }

    private void OnDatagram(in FlowKey key, in Packet packet, ReadOnlySpan<byte> captured, in PacketHeader header)
    {
        UdpFlow flow;
        if (_table.TryGet(key, out var found))
        {
            flow = (UdpFlow)found;
            _table.Touch(flow, packet.TimestampNs);
        }
        else
        {
            var context = new SniffContext(header.SourcePort, header.DestinationPort, null);
            var protocol = _datagramProtocols.Classify(captured, context, out var result);
            if (protocol is null)
            {
                // Not kept: a flood of unknown datagrams must cost no memory.
                _counters.UnclassifiedDatagrams.Increment();
                return;
            }

            MakeRoom(packet.TimestampNs);
            var clientSide = result == SniffResult.SenderIsClient ? packet.Side : 1 - packet.Side;
            try
            {
                flow = new UdpFlow(this, key, packet.InterfaceName, packet.TimestampNs, protocol, clientSide);
            }
            catch (Exception ex)
            {
                _counters.ParserFailures.Increment();
                protocol.Fail(ex);
                return;
            }

            _table.Add(flow);
        }

        _active = flow;
        flow.Saw(packet.Side, packet.TowardsEndpoint);
        if (flow.Protocol.Failed)
        {
            _table.Remove(flow);
            return;
        }

        flow.Parser.OnDatagram(new DatagramInfo(flow.Role(packet.Side), packet.TimestampNs, packet.Length), captured);
    }

    /// <summary>Closes a flow (its parser emits or counts what it holds) and forgets it.</summary>
    private void End(Flow flow, long nowNs)
    {
        _table.Remove(flow);
        var parsed = flow is TcpFlow { State: TcpFlowState.Parsing } or UdpFlow;
        try
        {
            if (parsed && !ProtocolOf(flow)!.Failed)
            {
                flow.Close(nowNs);
            }
        }
        catch (Exception ex)
        {
            Fail(flow, ex);
        }

        if (flow is TcpFlow tcp)
        {
            Report(tcp, nowNs, closed: true);
            if (!parsed && tcp.SawPayload)
            {
                _counters.UnclassifiedFlows.Increment();
            }

            tcp.Ignore();
            if (_spare.Count < MaxSpareFlows)
            {
                _spare.Push(tcp);
            }
        }
    }

    /// <summary>A parser threw: its protocol is disabled (and its plugin instance reported failed); its flow is dropped.</summary>
    private void Fail(Flow flow, Exception error)
    {
        _counters.ParserFailures.Increment();
        switch (flow)
        {
            case TcpFlow tcp:
                tcp.Protocol?.Fail(error);
                tcp.Ignore();
                break;
            case UdpFlow udp:
                udp.Protocol.Fail(error);
                _table.Remove(udp);
                break;
        }
    }

    private static ProtocolEntry? ProtocolOf(Flow flow) => flow switch
    {
        TcpFlow tcp => tcp.Protocol,
        UdpFlow udp => udp.Protocol,
        _ => null,
    };

    /// <summary>What the tracker reads of one packet record.</summary>
    private readonly record struct Packet(int Side, long TimestampNs, uint Seq, byte Flags, int Length, bool TowardsEndpoint, string InterfaceName);
}
