using Kubebpf.Sdk.Protocols;

namespace Kubebpf.Fuzz;

/// <summary>
/// Reads a fuzz input as a conversation: a sequence of steps, each an op byte (bit 0: the side, 0 client 1 server;
/// bits 1-2: 0 data, 1 gap, 2 FIN, 3 close) and, for data, a length byte and that many bytes (fewer at the end of the
/// input), for a gap one byte of length (times 64, plus 1). Any byte string is a valid script, so the fuzzer's
/// mutations always reach the parser.
/// </summary>
internal static class StreamScript
{
    public const byte Data = 0;
    public const byte Gap = 1;
    public const byte Fin = 2;
    public const byte Close = 3;

    /// <summary>One step: its kind, side, data (for <see cref="Data"/>) and gap length (for <see cref="Gap"/>).</summary>
    public readonly ref struct Step(byte kind, StreamSide side, ReadOnlySpan<byte> data, int gapBytes)
    {
        public byte Kind { get; } = kind;

        public StreamSide Side { get; } = side;

        public ReadOnlySpan<byte> Data { get; } = data;

        public int GapBytes { get; } = gapBytes;
    }

    /// <summary>Reads the step at <paramref name="offset"/> and moves past it; false at the end of the input.</summary>
    public static bool TryRead(ReadOnlySpan<byte> input, ref int offset, out Step step)
    {
        if (offset >= input.Length)
        {
            step = default;
            return false;
        }

        var op = input[offset++];
        var side = (op & 1) == 0 ? StreamSide.Client : StreamSide.Server;
        var kind = (byte)((op >> 1) & 3);
        var argument = offset < input.Length ? input[offset] : 0;
        switch (kind)
        {
            case Data:
                offset = Math.Min(offset + 1, input.Length);
                var length = Math.Min(argument, input.Length - offset);
                step = new Step(kind, side, input.Slice(offset, length), 0);
                offset += length;
                return true;
            case Gap:
                offset = Math.Min(offset + 1, input.Length);
                step = new Step(kind, side, default, (argument * 64) + 1);
                return true;
            default:
                step = new Step(kind, side, default, 0);
                return true;
        }
    }

    /// <summary>Appends a data step (split into pieces of at most 255 bytes) to a script being written.</summary>
    public static void WriteData(List<byte> script, StreamSide side, ReadOnlySpan<byte> data)
    {
        do
        {
            var piece = data[..Math.Min(data.Length, byte.MaxValue)];
            script.Add((byte)(side == StreamSide.Client ? 0 : 1));
            script.Add((byte)piece.Length);
            script.AddRange(piece);
            data = data[piece.Length..];
        }
        while (!data.IsEmpty);
    }
}
