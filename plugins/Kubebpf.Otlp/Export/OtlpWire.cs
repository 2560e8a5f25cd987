namespace Kubebpf.Otlp.Export;

/// <summary>The two OTLP signals this sink exports.</summary>
internal enum OtlpSignal
{
    Metrics,
    Logs,
}

/// <summary>
/// Just enough of the protobuf wire format to read what the exporter hides: how many data points or log records a
/// request carried (to count a lost export), and the <c>partial_success</c> of a response (to count what the receiver
/// rejected). Malformed input reads as zero items, never an exception.
/// </summary>
internal static class OtlpWire
{
    private const int GrpcPrefixLength = 5;

    // Metric data fields that hold data_points (field 1): gauge, sum, histogram, exponential_histogram, summary.
    private static readonly int[] MetricDataFields = [5, 7, 9, 10, 11];

    /// <summary>The data points (metrics) or log records (logs) of an export request body.</summary>
    public static long CountItems(ReadOnlySpan<byte> body, OtlpSignal signal, bool grpc)
    {
        if (!TryUnframe(body, grpc, out var message))
        {
            return 0;
        }

        long items = 0;
        var resources = new Reader(message);
        while (resources.NextBytes(1, out var resource))
        {
            var scopes = new Reader(resource);
            while (scopes.NextBytes(2, out var scope))
            {
                var entries = new Reader(scope);
                while (entries.NextBytes(2, out var entry))
                {
                    items += signal == OtlpSignal.Logs ? 1 : DataPoints(entry);
                }
            }
        }

        return items;
    }

    /// <summary>
    /// <c>partial_success.rejected_data_points</c> (metrics) or <c>rejected_log_records</c> (logs) of an export response
    /// body: both are field 1 of field 1. Zero when the body is empty or has none.
    /// </summary>
    public static long Rejected(ReadOnlySpan<byte> body, bool grpc)
    {
        if (!TryUnframe(body, grpc, out var message))
        {
            return 0;
        }

        var response = new Reader(message);
        if (!response.NextBytes(1, out var partial))
        {
            return 0;
        }

        var fields = new Reader(partial);
        return fields.NextVarint(1, out var rejected) ? (long)rejected : 0;
    }

    private static long DataPoints(ReadOnlySpan<byte> metric)
    {
        long points = 0;
        var fields = new Reader(metric);
        while (fields.Next(out var field, out var bytes, out _, out var wireType))
        {
            if (wireType == 2 && Array.IndexOf(MetricDataFields, field) >= 0)
            {
                var data = new Reader(bytes);
                while (data.NextBytes(1, out _))
                {
                    points++;
                }
            }
        }

        return points;
    }

    // A gRPC message is framed: one compression flag byte (0: not compressed) and a big-endian length.
    private static bool TryUnframe(ReadOnlySpan<byte> body, bool grpc, out ReadOnlySpan<byte> message)
    {
        message = body;
        if (!grpc)
        {
            return true;
        }

        if (body.Length < GrpcPrefixLength || body[0] != 0)
        {
            return false;
        }

        var length = (body[1] << 24) | (body[2] << 16) | (body[3] << 8) | body[4];
        if (length < 0 || length > body.Length - GrpcPrefixLength)
        {
            return false;
        }

        message = body.Slice(GrpcPrefixLength, length);
        return true;
    }

    /// <summary>Walks the fields of one message; stops (as at the end) on malformed input.</summary>
    private ref struct Reader(ReadOnlySpan<byte> message)
    {
        private ReadOnlySpan<byte> _rest = message;

        /// <summary>The next length-delimited field numbered <paramref name="wanted"/>, skipping others.</summary>
        public bool NextBytes(int wanted, out ReadOnlySpan<byte> bytes)
        {
            while (Next(out var field, out bytes, out _, out var wireType))
            {
                if (field == wanted && wireType == 2)
                {
                    return true;
                }
            }

            return false;
        }

        /// <summary>The next varint field numbered <paramref name="wanted"/>, skipping others.</summary>
        public bool NextVarint(int wanted, out ulong value)
        {
            while (Next(out var field, out _, out value, out var wireType))
            {
                if (field == wanted && wireType == 0)
                {
                    return true;
                }
            }

            return false;
        }

        /// <summary>The next field: its number, its bytes (wire types 1, 2, 5) or value (wire type 0), and its wire type.</summary>
        public bool Next(out int field, out ReadOnlySpan<byte> bytes, out ulong varint, out int wireType)
        {
            field = 0;
            bytes = default;
            varint = 0;
            wireType = -1;
            if (_rest.IsEmpty || !TryVarint(ref _rest, out var key))
            {
                return Stop();
            }

            field = (int)(key >> 3);
            wireType = (int)(key & 7);
            switch (wireType)
            {
                case 0:
                    return TryVarint(ref _rest, out varint) || Stop();
                case 1:
                    return Take(8, out bytes);
                case 2:
                    return TryVarint(ref _rest, out var length) && length <= (ulong)_rest.Length ? Take((int)length, out bytes) : Stop();
                case 5:
                    return Take(4, out bytes);
                default:
                    return Stop(); // groups (3, 4) are not used by OTLP
            }
        }

        private bool Take(int length, out ReadOnlySpan<byte> bytes)
        {
            if (length > _rest.Length)
            {
                bytes = default;
                return Stop();
            }

            bytes = _rest[..length];
            _rest = _rest[length..];
            return true;
        }

        private bool Stop()
        {
            _rest = default;
            return false;
        }

        private static bool TryVarint(ref ReadOnlySpan<byte> data, out ulong value)
        {
            value = 0;
            for (var i = 0; i < 10 && i < data.Length; i++)
            {
                value |= (ulong)(data[i] & 0x7f) << (7 * i);
                if ((data[i] & 0x80) == 0)
                {
                    data = data[(i + 1)..];
                    return true;
                }
            }

            return false;
        }
    }
}
