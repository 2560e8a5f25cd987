using System.Collections.Concurrent;
using Kubebpf.Sdk.Events;
using Kubebpf.Sdk.Protocols;

namespace Kubebpf.Dns.Search;

/// <summary>
/// Each client interface's search list: the pod's own <c>resolv.conf</c> once a background lookup found it (read again
/// every <see cref="DnsOptions.ResolvConfRefresh"/>), else the configured <see cref="DnsOptions.SearchDomains"/>.
/// Answers from memory at once, so the capture thread never waits on /proc.
/// </summary>
internal sealed class SearchDomains
{
    /// <summary>Interfaces remembered at once: pods come and go; past it the table starts afresh.</summary>
    public const int MaxInterfaces = 16384;

    private readonly ConcurrentDictionary<string, Entry> _byInterface = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, bool> _lookingUp = new(StringComparer.Ordinal);
    private readonly string[] _configured;
    private readonly Func<string, string[]?>? _lookup;
    private readonly long _refreshNs;

    /// <param name="options">The configured domains and refresh interval.</param>
    /// <param name="lookup">Finds an interface's pod search list (slow), or null to use only the configured domains.</param>
    public SearchDomains(DnsOptions options, Func<string, string[]?>? lookup)
    {
        _configured = ResolvConf.Normalize(options.SearchDomains);
        _lookup = lookup;
        _refreshNs = (long)options.ResolvConfRefresh.TotalNanoseconds;
    }

    /// <summary>Interfaces whose search list came from their pod's resolv.conf.</summary>
    public int FromPods => _byInterface.Count(e => e.Value.FromPod);

    /// <summary>
    /// The search list of <paramref name="flow"/>'s client as known now; starts a lookup when due. Only a client seen on
    /// its own interface (direction out) has its pod's list: a resolver's interface says nothing of its clients.
    /// </summary>
    public string[] For(in FlowIdentity flow, long nowNs) =>
        flow.Direction == TrafficDirection.Out ? For(flow.Interface, nowNs) : _configured;

    /// <summary>The search list of the pod behind <paramref name="interfaceName"/> as known now; starts a lookup when due.</summary>
    public string[] For(string interfaceName, long nowNs)
    {
        if (_lookup is null)
        {
            return _configured;
        }

        if (!_byInterface.TryGetValue(interfaceName, out var entry) || nowNs >= entry.RefreshAtNs)
        {
            StartLookup(interfaceName, nowNs);
        }

        return entry?.Domains ?? _configured;
    }

    private void StartLookup(string interfaceName, long nowNs)
    {
        if (!_lookingUp.TryAdd(interfaceName, true))
        {
            return;
        }

        ThreadPool.UnsafeQueueUserWorkItem(
            _ =>
            {
                try
                {
                    var found = _lookup!(interfaceName);
                    if (_byInterface.Count >= MaxInterfaces)
                    {
                        _byInterface.Clear();
                    }

                    _byInterface[interfaceName] = new Entry(found ?? _configured, found is not null, nowNs + _refreshNs);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    _byInterface[interfaceName] = new Entry(_configured, false, nowNs + _refreshNs);
                }
                finally
                {
                    _lookingUp.TryRemove(interfaceName, out bool _);
                }
            },
            null);
    }

    private sealed record Entry(string[] Domains, bool FromPod, long RefreshAtNs);
}
