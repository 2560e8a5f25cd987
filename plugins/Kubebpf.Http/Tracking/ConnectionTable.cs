namespace Kubebpf.Http.Tracking;

/// <summary>
/// Connections by key, in least-recently-active order. Removed connections are kept for reuse (up to a bound), so a
/// steady stream of short connections does not allocate. Not thread-safe, except <see cref="Count"/>.
/// </summary>
internal sealed class ConnectionTable(int maxPipelinedRequests)
{
    private const int MaxSpare = 1024;
    private readonly Dictionary<ConnectionKey, Connection> _connections = [];
    private readonly Stack<Connection> _spare = new();
    private Connection? _newest;
    private int _count;

    public int Count => Volatile.Read(ref _count);

    /// <summary>The least recently active connection.</summary>
    public Connection? Oldest { get; private set; }

    public bool TryGet(in ConnectionKey key, out Connection connection)
    {
        // The newest is the connection of the latest segment, and segments often follow one of their own connection
        // (a response in several segments): then the hash lookup is skipped. The newest is always in the table.
        if (_newest is { } newest && newest.Key.Equals(key))
        {
            connection = newest;
            return true;
        }

        return _connections.TryGetValue(key, out connection!);
    }

    public Connection Add(in ConnectionKey key, long nowNs)
    {
        var connection = _spare.TryPop(out var spare) ? spare : new Connection(maxPipelinedRequests);
        connection.Reset(key, nowNs);
        _connections.Add(key, connection);
        Link(connection);
        Volatile.Write(ref _count, _connections.Count);
        return connection;
    }

    public void Touch(Connection connection, long nowNs)
    {
        connection.LastSeenNs = nowNs;
        if (connection != _newest)
        {
            Unlink(connection);
            Link(connection);
        }
    }

    public void Remove(Connection connection)
    {
        if (!_connections.Remove(connection.Key))
        {
            return;
        }

        Unlink(connection);
        connection.Release();
        if (_spare.Count < MaxSpare)
        {
            _spare.Push(connection);
        }

        Volatile.Write(ref _count, _connections.Count);
    }

    private void Link(Connection connection)
    {
        connection.Older = _newest;
        connection.Newer = null;
        if (_newest is not null)
        {
            _newest.Newer = connection;
        }

        _newest = connection;
        Oldest ??= connection;
    }

    private void Unlink(Connection connection)
    {
        if (connection.Newer is null)
        {
            _newest = connection.Older;
        }
        else
        {
            connection.Newer.Older = connection.Older;
        }

        if (connection.Older is null)
        {
            Oldest = connection.Newer;
        }
        else
        {
            connection.Older.Newer = connection.Newer;
        }

        connection.Newer = null;
        connection.Older = null;
    }
}
