using Kubebpf.Sdk.Protocols;

namespace Kubebpf.Fuzz;

/// <summary>
/// Plays the capture's side of the stream-parser contract for a fuzz script: offers each side's unconsumed bytes again
/// before its next data, up to the protocol's <see cref="IStreamProtocol.MaxBufferedBytes"/>, and checks the contract's
/// promises (consumed count in range, bounded kept bytes). A broken promise is a finding, like an exception.
/// </summary>
internal sealed class StreamParserDriver : IExchangeOutput
{
    private readonly IStreamProtocol _protocol;
    private readonly byte[][] _kept = [[], []];
    private IStreamParser _parser;
    private long _now;

    public StreamParserDriver(IStreamProtocol protocol)
    {
        _protocol = protocol;
        _parser = protocol.CreateParser(this);
    }

    public long Exchanges { get; private set; }

    public void Emit(in ParsedExchange exchange)
    {
        if (exchange.Operation is null)
        {
            throw new InvalidOperationException("an exchange without an operation");
        }

        Exchanges++;
    }

    public void Run(ReadOnlySpan<byte> script)
    {
        var offset = 0;
        while (StreamScript.TryRead(script, ref offset, out var step))
        {
            _now += 1000;
            switch (step.Kind)
            {
                case StreamScript.Data:
                    Offer(step.Side, step.Data);
                    break;
                case StreamScript.Gap:
                    _kept[(int)step.Side] = [];
                    _parser.OnGap(step.Side, step.GapBytes, _now);
                    break;
                case StreamScript.Fin:
                    _parser.OnFin(step.Side, _now);
                    break;
                default:
                    _parser.OnClose(_now);
                    _kept[0] = [];
                    _kept[1] = [];
                    _parser = _protocol.CreateParser(this);
                    break;
            }
        }

        _parser.OnClose(_now + 1000);
    }

    private void Offer(StreamSide side, ReadOnlySpan<byte> bytes)
    {
        byte[] data = [.. _kept[(int)side], .. bytes];
        var consumed = _parser.OnData(new StreamChunk(side, _now, _now), data);
        if (consumed < 0 || consumed > data.Length)
        {
            throw new InvalidOperationException($"OnData consumed {consumed} of {data.Length} bytes");
        }

        var kept = data.Length - consumed;
        // The capture keeps at most MaxBufferedBytes of unconsumed data and counts the rest as lost.
        _kept[(int)side] = kept > _protocol.MaxBufferedBytes ? [] : data[consumed..];
    }
}

/// <summary>The datagram-parser contract for a fuzz script: each data step is one datagram of its side.</summary>
internal sealed class DatagramParserDriver(IDatagramProtocol protocol) : IExchangeOutput
{
    public void Emit(in ParsedExchange exchange)
    {
    }

    public void Run(ReadOnlySpan<byte> script)
    {
        var parser = protocol.CreateParser(this);
        var now = 0L;
        var offset = 0;
        while (StreamScript.TryRead(script, ref offset, out var step))
        {
            now += 1_000_000;
            switch (step.Kind)
            {
                case StreamScript.Data:
                    parser.OnDatagram(new DatagramInfo(step.Side, now, step.Data.Length), step.Data);
                    break;
                case StreamScript.Gap:
                    parser.OnTick(now + ((long)step.GapBytes * 1_000_000_000));
                    break;
                default:
                    parser.OnClose(now);
                    parser = protocol.CreateParser(this);
                    break;
            }
        }

        parser.OnClose(now);
    }
}
