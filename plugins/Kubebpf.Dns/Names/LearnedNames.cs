using System.Collections.Concurrent;
using System.Diagnostics;
using Kubebpf.Sdk.Metadata;
using Kubebpf.Sdk.Net;
using Kubebpf.Sdk.Pipeline;

namespace Kubebpf.Dns.Names;

/// <summary>
/// The learned name table: the addresses in A and AAAA answers, each mapped to the name the client asked for, kept
/// for the answer's TTL (at least <see cref="DnsOptions.MinNameLifetime"/>). Written on the capture thread, read from
/// any thread without locks or allocation. Bounded: beyond <see cref="DnsOptions.MaxLearnedNames"/> unexpired names a
/// new address is not learned (counted).
/// </summary>
internal sealed class LearnedNames : IPeerNameSource
{
    private static readonly long SweepIntervalNs = TimeSpan.FromSeconds(1).Ticks * 100;

    private readonly ConcurrentDictionary<NetworkEndpoint, LearnedName> _names = new();
    private readonly int _capacity;
    private readonly long _minLifetimeNs;
    private readonly Func<long> _monotonicNowNs;
    private readonly Counter _dropped;
    private long _lastSweepNs = long.MinValue / 2;

    public LearnedNames(DnsOptions options, Counter dropped, Func<long>? monotonicNowNs = null)
    {
        _capacity = options.MaxLearnedNames;
        _minLifetimeNs = (long)options.MinNameLifetime.TotalNanoseconds;
        _dropped = dropped;
        _monotonicNowNs = monotonicNowNs ?? MonotonicNowNs;
    }

    /// <summary>Names held, expired ones not yet swept included.</summary>
    public int Count => _names.Count;

    /// <summary>The capture's clock (CLOCK_MONOTONIC, as packet timestamps): .NET's Stopwatch on Linux.</summary>
    public static long MonotonicNowNs() => (long)(Stopwatch.GetTimestamp() * (1_000_000_000.0 / Stopwatch.Frequency));

    public string? ResolveName(in NetworkEndpoint endpoint) =>
        _names.TryGetValue(Key(endpoint), out var learned) && learned.ExpiresNs > _monotonicNowNs() ? learned.Name : null;

    /// <summary>Learns that <paramref name="address"/> answered <paramref name="name"/> at <paramref name="nowNs"/> for <paramref name="ttlSeconds"/>.</summary>
    public void Learn(in NetworkEndpoint address, string name, uint ttlSeconds, long nowNs)
    {
        if (_capacity == 0)
        {
            return;
        }

        var key = Key(address);
        var expires = nowNs + Math.Max(ttlSeconds * 1_000_000_000L, _minLifetimeNs);
        if (_names.TryGetValue(key, out var known))
        {
            // One object per change of name or of a second's worth of lifetime, not per answer.
            if (known.Name != name || expires - known.ExpiresNs > 1_000_000_000L)
            {
                _names[key] = new LearnedName(name, expires);
            }

            return;
        }

        if (_names.Count >= _capacity && !Sweep(nowNs))
        {
            _dropped.Increment();
            return;
        }

        _names[key] = new LearnedName(name, expires);
    }

    /// <summary>Forgets expired names, at most once a second; returns whether there is room for one more.</summary>
    private bool Sweep(long nowNs)
    {
        if (nowNs - _lastSweepNs >= SweepIntervalNs)
        {
            _lastSweepNs = nowNs;
            foreach (var (key, learned) in _names)
            {
                if (learned.ExpiresNs <= nowNs)
                {
                    _names.TryRemove(key, out _);
                }
            }
        }

        return _names.Count < _capacity;
    }

    private static NetworkEndpoint Key(in NetworkEndpoint endpoint) => endpoint.Canonical().WithPort(0);

    private sealed record LearnedName(string Name, long ExpiresNs);
}
