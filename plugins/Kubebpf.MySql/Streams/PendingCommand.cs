using Kubebpf.MySql.Protocol;

namespace Kubebpf.MySql.Streams;

/// <summary>A command waiting for its answer, with what its exchange will say.</summary>
internal struct PendingCommand
{
    /// <summary>The command's name (<c>COM_QUERY</c>).</summary>
    public string Name;

    /// <summary>The statement type, or OTHER.</summary>
    public string Operation;

    /// <summary>The fingerprint, or the command's name for commands without SQL.</summary>
    public string Resource;

    /// <summary>The statement as sent, only when statements are recorded.</summary>
    public string? Statement;

    /// <summary>The connection's default database when the command was sent.</summary>
    public string? Database;

    /// <summary>The default database once the command succeeds (COM_INIT_DB, <c>USE db</c>), or null.</summary>
    public string? DatabaseAfter;

    public ResponseKind Kind;

    /// <summary>For COM_STMT_PREPARE: what the statement id in its PREPARE_OK will stand for.</summary>
    public PreparedStatement? Prepared;

    public long StartNs;

    /// <summary>Where the command starts in the client's stream.</summary>
    public long StartPosition;

    /// <summary>Bytes on the wire (headers included) of the command's packets.</summary>
    public long RequestBytes;

    /// <summary>Bytes of the command were not captured: its fingerprint is a prefix.</summary>
    public bool Truncated;
}

/// <summary>A prepared statement of one connection: what its executions are reported as.</summary>
/// <param name="Operation">The statement type.</param>
/// <param name="Resource">The fingerprint.</param>
/// <param name="Statement">The text as prepared, only when statements are recorded.</param>
internal sealed record PreparedStatement(string Operation, string Resource, string? Statement);

/// <summary>Commands waiting for their answers, oldest first, bounded (a ring).</summary>
internal sealed class CommandQueue(int capacity)
{
    private readonly PendingCommand[] _items = new PendingCommand[capacity];
    private int _head;

    public int Count { get; private set; }

    public bool TryEnqueue(in PendingCommand command)
    {
        if (Count == _items.Length)
        {
            return false;
        }

        _items[(_head + Count) % _items.Length] = command;
        Count++;
        return true;
    }

    public bool TryDequeue(out PendingCommand command)
    {
        if (Count == 0)
        {
            command = default;
            return false;
        }

        command = _items[_head];
        _items[_head] = default;
        _head = (_head + 1) % _items.Length;
        Count--;
        return true;
    }

    /// <summary>The oldest command; only when <see cref="Count"/> is not 0.</summary>
    public ref PendingCommand Oldest => ref _items[_head];

    /// <summary>The newest command; only when <see cref="Count"/> is not 0.</summary>
    public ref PendingCommand Newest => ref _items[(_head + Count - 1) % _items.Length];

    public void Clear()
    {
        Array.Clear(_items);
        _head = 0;
        Count = 0;
    }
}
