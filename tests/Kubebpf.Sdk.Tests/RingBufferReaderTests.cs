using System.Runtime.InteropServices;
using System.Text;
using Kubebpf.Sdk.Bpf;

namespace Kubebpf.Sdk.Tests;

/// <summary>Walks records in a ring laid out like the kernel's, in ordinary memory.</summary>
public sealed unsafe class RingBufferReaderTests : IDisposable
{
    private const uint Size = 64;
    private const uint Busy = 1u << 31;
    private const uint Discard = 1u << 30;
    private readonly byte* _memory = (byte*)NativeMemory.AllocZeroed(16 + 2 * Size);
    private ulong _producer;

    private ref ulong ConsumerPos => ref *(ulong*)_memory;

    private ref ulong ProducerPos => ref *(ulong*)(_memory + 8);

    private byte* Data => _memory + 16;

    public void Dispose() => NativeMemory.Free(_memory);

    [Fact]
    public void Drains_committed_records_and_advances_the_consumer_position()
    {
        Write("GET /", 0);
        Write("HTTP/1.1 200", 0);
        var handler = new Collecting();

        using var reader = Reader();
        Assert.Equal(2, reader.Drain(ref handler));

        Assert.Equal(["GET /", "HTTP/1.1 200"], handler.Records);
        Assert.Equal(_producer, ConsumerPos);
        Assert.Equal(0, reader.Pending);
    }

    [Fact]
    public void Skips_discarded_records_and_stops_at_a_busy_one()
    {
        Write("dropped", Discard);
        Write("kept", 0);
        var busyAt = _producer;
        Write("in flight", Busy);
        var handler = new Collecting();

        using var reader = Reader();
        Assert.Equal(1, reader.Drain(ref handler));

        Assert.Equal(["kept"], handler.Records);
        Assert.Equal(busyAt, ConsumerPos);
    }

    [Fact]
    public void Reads_a_record_that_wraps_the_end_of_the_ring_through_the_second_mapping()
    {
        using var reader = Reader();
        var handler = new Collecting();
        for (var i = 0; i < 5; i++)
        {
            Write($"record {i:D2} ..", 0); // 15 bytes -> 24 per record: positions drift across the 64-byte end
            Assert.Equal(1, reader.Drain(ref handler));
        }

        Assert.Equal(Enumerable.Range(0, 5).Select(i => $"record {i:D2} .."), handler.Records);
        Assert.True(_producer > Size);
    }

    [Fact]
    public void An_empty_ring_drains_nothing()
    {
        var handler = new Collecting();
        using var reader = Reader();
        Assert.Equal(0, reader.Drain(ref handler));
    }

    private RingBufferReader Reader() => new((nint)_memory, (nint)(_memory + 8), (nint)Data, Size);

    /// <summary>Appends a record as the kernel does; the data area is written at both mappings.</summary>
    private void Write(string text, uint flags)
    {
        var bytes = Encoding.ASCII.GetBytes(text);
        var header = BitConverter.GetBytes((uint)bytes.Length | flags);
        var record = header.Concat(new byte[4]).Concat(bytes).ToArray();
        for (var i = 0; i < record.Length; i++)
        {
            var at = (_producer + (ulong)i) % Size;
            Data[at] = record[i];
            Data[at + Size] = record[i];
        }

        _producer += (ulong)((record.Length + 7) & ~7);
        ProducerPos = _producer;
    }

    private struct Collecting : IRecordHandler
    {
        public Collecting() => Records = [];

        public List<string> Records { get; }

        public readonly void OnRecord(ReadOnlySpan<byte> record) => Records.Add(Encoding.ASCII.GetString(record));
    }
}
