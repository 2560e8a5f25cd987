namespace Kubebpf.Prometheus.Tests;

/// <summary>One decoded remote-write series: labels by name and its samples (value, timestamp in ms).</summary>
internal sealed record DecodedSeries(IReadOnlyDictionary<string, string> Labels, IReadOnlyList<(double Value, long TimestampMs)> Samples)
{
    public string Name => Labels["__name__"];
}

/// <summary>
/// A protobuf reader for <c>prometheus.WriteRequest</c>, independent of the plugin's encoder: it walks wire types
/// generically (skipping fields it does not know), so an encoding mistake shows up as a wrong value or an exception.
/// </summary>
internal static class WriteRequestDecoder
{
    public static IReadOnlyList<DecodedSeries> Decode(ReadOnlySpan<byte> message)
    {
        var series = new List<DecodedSeries>();
        var reader = new Reader(message);
        while (!reader.End)
        {
            var (field, wire) = reader.Tag();
            if (field == 1 && wire == 2)
            {
                series.Add(DecodeSeries(reader.Bytes()));
            }
            else
            {
                reader.Skip(wire);
            }
        }

        return series;
    }

    private static DecodedSeries DecodeSeries(ReadOnlySpan<byte> message)
    {
        var labels = new Dictionary<string, string>();
        var samples = new List<(double, long)>();
        var reader = new Reader(message);
        var previousName = "";
        while (!reader.End)
        {
            var (field, wire) = reader.Tag();
            switch (field, wire)
            {
                case (1, 2):
                    var (name, value) = DecodeLabel(reader.Bytes());
                    if (string.CompareOrdinal(previousName, name) >= 0)
                    {
                        throw new FormatException($"Labels are not sorted: '{name}' after '{previousName}'.");
                    }

                    previousName = name;
                    labels.Add(name, value);
                    break;
                case (2, 2):
                    samples.Add(DecodeSample(reader.Bytes()));
                    break;
                default:
                    reader.Skip(wire);
                    break;
            }
        }

        return new DecodedSeries(labels, samples);
    }

    private static (string Name, string Value) DecodeLabel(ReadOnlySpan<byte> message)
    {
        var reader = new Reader(message);
        string name = "", value = "";
        while (!reader.End)
        {
            var (field, wire) = reader.Tag();
            if (wire != 2)
            {
                reader.Skip(wire);
                continue;
            }

            var text = System.Text.Encoding.UTF8.GetString(reader.Bytes());
            if (field == 1)
            {
                name = text;
            }
            else if (field == 2)
            {
                value = text;
            }
        }

        return (name, value);
    }

    private static (double, long) DecodeSample(ReadOnlySpan<byte> message)
    {
        var reader = new Reader(message);
        double value = 0;
        long timestamp = 0;
        while (!reader.End)
        {
            var (field, wire) = reader.Tag();
            switch (field, wire)
            {
                case (1, 1):
                    value = BitConverter.Int64BitsToDouble((long)reader.Fixed64());
                    break;
                case (2, 0):
                    timestamp = (long)reader.Varint();
                    break;
                default:
                    reader.Skip(wire);
                    break;
            }
        }

        return (value, timestamp);
    }

    private ref struct Reader(ReadOnlySpan<byte> data)
    {
        private readonly ReadOnlySpan<byte> _data = data;
        private int _position;

        public readonly bool End => _position >= _data.Length;

        public (int Field, int Wire) Tag()
        {
            var tag = Varint();
            return ((int)(tag >> 3), (int)(tag & 7));
        }

        public ulong Varint()
        {
            ulong value = 0;
            for (var shift = 0; shift < 64; shift += 7)
            {
                var b = _data[_position++];
                value |= (ulong)(b & 0x7F) << shift;
                if (b < 0x80)
                {
                    return value;
                }
            }

            throw new FormatException("Varint longer than 10 bytes.");
        }

        public ulong Fixed64()
        {
            var value = System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(_data.Slice(_position, 8));
            _position += 8;
            return value;
        }

        public ReadOnlySpan<byte> Bytes()
        {
            var length = checked((int)Varint());
            var bytes = _data.Slice(_position, length);
            _position += length;
            return bytes;
        }

        public void Skip(int wire)
        {
            switch (wire)
            {
                case 0: Varint(); break;
                case 1: _position += 8; break;
                case 2: Bytes(); break;
                case 5: _position += 4; break;
                default: throw new FormatException($"Unknown wire type {wire}.");
            }
        }
    }
}
