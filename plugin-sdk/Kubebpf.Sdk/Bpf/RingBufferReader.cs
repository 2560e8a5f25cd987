using System.Runtime.InteropServices;

namespace Kubebpf.Sdk.Bpf;

/// <summary>Receives ring-buffer records; a struct implementation lets the JIT inline the call.</summary>
public interface IRecordHandler
{
    /// <summary>
    /// One record's data, valid only during the call (it points into the ring, which the kernel reuses
    /// once the call returns). Must not throw: an exception stops the drain with the record unconsumed.
    /// </summary>
    void OnRecord(ReadOnlySpan<byte> record);
}

/// <summary>
/// A managed consumer of a <c>BPF_MAP_TYPE_RINGBUF</c> map: maps the ring into this process and walks its records
/// in place, with no libbpf callback and no allocation per record. Single consumer: call <see cref="Drain{THandler}"/>
/// from one thread at a time. Keep the owning <see cref="BpfObject"/> alive while reading; disposing unmaps the ring.
/// </summary>
public sealed unsafe class RingBufferReader : IDisposable
{
    private const uint BusyBit = 1u << 31;
    private const uint DiscardBit = 1u << 30;
    private const int HeaderSize = 8;

    // Consumed space is handed back to the kernel every this many bytes and at the end of a drain, not after every
    // record: the kernel reads the consumer position on every reserve, so a write per record moved its cache line
    // between the two CPUs twice per record.
    private const ulong ReleaseEveryBytes = 64 * 1024;

    private readonly nint _consumerPage;
    private readonly nint _producerPage;
    private readonly nuint _producerLength;
    private readonly bool _ownsMappings;
    private readonly byte* _data;
    private readonly ulong _mask;
    private bool _disposed;

    /// <summary>Maps the ring buffer <paramref name="map"/> (of a loaded object).</summary>
    public RingBufferReader(BpfMap map)
    {
        ArgumentNullException.ThrowIfNull(map);
        var size = map.MaxEntries;
        var fd = map.Fd;
        var pageSize = (nuint)Environment.SystemPageSize;
        // Consumer page: writable, holds consumer_pos. Then the producer page and the data, mapped twice in a row
        // by the kernel so that a record wrapping the end is still contiguous.
        _consumerPage = LibC.mmap(0, pageSize, LibC.PROT_READ | LibC.PROT_WRITE, LibC.MAP_SHARED, fd, 0);
        if (_consumerPage == LibC.MapFailed)
        {
            throw new BpfException("mmap(ringbuf consumer page)", Marshal.GetLastPInvokeError(), map.Name);
        }

        _producerLength = pageSize + 2 * (nuint)size;
        _producerPage = LibC.mmap(0, _producerLength, LibC.PROT_READ, LibC.MAP_SHARED, fd, (nint)pageSize);
        if (_producerPage == LibC.MapFailed)
        {
            var errno = Marshal.GetLastPInvokeError();
            LibC.munmap(_consumerPage, pageSize);
            throw new BpfException("mmap(ringbuf data)", errno, map.Name);
        }

        _ownsMappings = true;
        Fd = fd;
        _data = (byte*)_producerPage + pageSize;
        _mask = size - 1;
        Size = size;
    }

    /// <summary>Reads a ring laid out in caller-owned memory (tests): positions at the start of each page, data twice in a row.</summary>
    internal RingBufferReader(nint consumerPage, nint producerPage, nint data, uint size)
    {
        _consumerPage = consumerPage;
        _producerPage = producerPage;
        _data = (byte*)data;
        _mask = size - 1;
        Size = size;
    }

    /// <summary>The ring map's descriptor, which polls readable while records are pending; -1 for a ring in caller-owned memory.</summary>
    internal int Fd { get; } = -1;

    /// <summary>The data size in bytes (a power of two).</summary>
    public uint Size { get; }

    /// <summary>Bytes written by the kernel and not consumed yet (a snapshot).</summary>
    public long Pending => (long)(Volatile.Read(ref ProducerPosition) - Volatile.Read(ref ConsumerPosition));

    /// <summary>Bytes the kernel has written into the ring since it was created (its producer position).</summary>
    internal ulong Produced => Volatile.Read(ref ProducerPosition);

    /// <summary>
    /// Consumes every committed record up to the producer position read on entry, handing each to
    /// <paramref name="handler"/>, and returns how many it handed over. Stops early at a record still being written.
    /// The kernel may reuse a record's space once <see cref="IRecordHandler.OnRecord"/> returned (at the latest when
    /// the drain returns): a handler must not keep the span.
    /// </summary>
    public int Drain<THandler>(ref THandler handler)
        where THandler : struct, IRecordHandler
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ref var consumerPosition = ref ConsumerPosition;
        var consumer = consumerPosition;
        var producer = Volatile.Read(ref ProducerPosition); // acquire: records before it are visible
        var released = consumer;
        var count = 0;
        try
        {
            while (consumer < producer)
            {
                var header = (uint*)(_data + (consumer & _mask));
                var length = Volatile.Read(ref *header); // acquire, pairs with the kernel's commit
                if ((length & BusyBit) != 0)
                {
                    break;
                }

                var dataLength = (int)(length & ~(BusyBit | DiscardBit));
                if ((length & DiscardBit) == 0)
                {
                    handler.OnRecord(new ReadOnlySpan<byte>((byte*)header + HeaderSize, dataLength));
                    count++;
                }

                consumer += (ulong)((dataLength + HeaderSize + 7) & ~7);
                if (consumer - released >= ReleaseEveryBytes)
                {
                    Volatile.Write(ref consumerPosition, consumer); // release: the kernel may now reuse the space
                    released = consumer;
                }
            }
        }
        finally
        {
            if (consumer != released)
            {
                Volatile.Write(ref consumerPosition, consumer);
            }
        }

        return count;
    }

    /// <summary>Unmaps the ring.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        if (_ownsMappings)
        {
            LibC.munmap(_producerPage, _producerLength);
            LibC.munmap(_consumerPage, (nuint)Environment.SystemPageSize);
        }
    }

    private ref ulong ConsumerPosition => ref *(ulong*)_consumerPage;

    private ref ulong ProducerPosition => ref *(ulong*)_producerPage;
}
