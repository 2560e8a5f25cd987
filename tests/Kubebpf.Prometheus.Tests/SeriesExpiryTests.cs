using Kubebpf.Prometheus.Metrics;
using Kubebpf.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Kubebpf.Prometheus.Tests;

/// <summary>The idle expiry the three sources share (each source's own test checks it through that source).</summary>
public sealed class SeriesExpiryTests
{
    [Fact]
    public void Entries_idle_longer_than_the_timeout_are_removed_their_room_given_back_and_counted()
    {
        var metrics = new TestAgentMetrics();
        var time = new FakeTimeProvider();
        var budget = new SeriesBudget(10, metrics);
        var expiry = new SeriesExpiry(TimeSpan.FromMinutes(1), time, budget, metrics.Counter("expired_test", "test"));
        var entries = new Dictionary<string, Entry>();
        Add("a"); // at 0 s
        time.Advance(TimeSpan.FromSeconds(1));
        Add("b"); // at 1 s
        time.Advance(TimeSpan.FromSeconds(30));
        Add("c"); // at 31 s
        time.Advance(TimeSpan.FromSeconds(29)); // at 60 s: idle for exactly the timeout, 59 s and 29 s, none beyond it
        Assert.Equal(0, expiry.RemoveIdle(entries));
        time.Advance(TimeSpan.FromSeconds(2));
        var removed = expiry.RemoveIdle(entries);
        expiry.Release(removed);

        Assert.Equal(2, removed);
        Assert.Equal(["c"], entries.Keys);
        Assert.Equal(1, budget.Held);
        Assert.Equal(2, metrics.Value("expired_test"));

        void Add(string name)
        {
            Assert.True(budget.TryTake());
            entries[name] = new Entry(time.GetTimestamp());
        }
    }

    private sealed record Entry(long LastSeen) : IIdleTracked;
}
