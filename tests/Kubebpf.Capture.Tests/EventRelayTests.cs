using Kubebpf.Sdk.Pipeline;

namespace Kubebpf.Capture.Tests;

public sealed class EventRelayTests
{
    [Fact]
    public void Batches_reach_the_target_in_order_on_the_relay_thread_and_dispose_publishes_what_is_pending()
    {
        var target = new GatedPublisher();
        var waits = new Counter("waits", "test");
        using (var relay = new EventRelay<int>(target, maxPending: 1_000, waits, "relay test"))
        {
            relay.Publish([1, 2]);
            Assert.True(target.Entered.Wait(TimeSpan.FromSeconds(10)), "the relay did not publish the first batch");
            // The target blocks in the first batch: the capture thread still hands over at once.
            relay.Publish([3]);
            relay.Publish([4, 5]);
            Assert.Equal([1, 2], target.Received);
            target.Release.Set();
        }

        Assert.Equal([1, 2, 3, 4, 5], target.Received);
        Assert.Equal(0, waits.Value);
        Assert.DoesNotContain(Environment.CurrentManagedThreadId, target.Threads);
    }

    [Fact]
    public async Task A_batch_that_would_take_the_pending_events_past_the_bound_waits_for_the_relay_and_nothing_is_dropped()
    {
        var target = new GatedPublisher();
        var waits = new Counter("waits", "test");
        using (var relay = new EventRelay<int>(target, maxPending: 3, waits, "relay test"))
        {
            relay.Publish([1]);
            Assert.True(target.Entered.Wait(TimeSpan.FromSeconds(10)), "the relay did not publish the first batch");
            relay.Publish([2, 3]);
            var blocked = Task.Run(() => relay.Publish([4, 5])); // 2 pending + 2 > 3
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
            while (waits.Value == 0 && DateTime.UtcNow < deadline)
            {
                await Task.Delay(10);
            }

            Assert.Equal(1, waits.Value);
            Assert.False(blocked.IsCompleted, "the batch beyond the bound was taken while the relay was still busy");
            target.Release.Set();
            await blocked.WaitAsync(TimeSpan.FromSeconds(10));
            relay.Publish([6]);
        }

        Assert.Equal([1, 2, 3, 4, 5, 6], target.Received);
        Assert.Equal(1, waits.Value);
    }

    [Fact]
    public void A_batch_larger_than_the_bound_on_its_own_goes_once_nothing_else_is_pending()
    {
        var target = new GatedPublisher();
        target.Release.Set();
        var waits = new Counter("waits", "test");
        using (var relay = new EventRelay<int>(target, maxPending: 2, waits, "relay test"))
        {
            relay.Publish([1, 2, 3, 4]);
        }

        Assert.Equal([1, 2, 3, 4], target.Received);
        Assert.Equal(0, waits.Value);
    }

    /// <summary>Records what it receives; its first publish waits for <see cref="Release"/>.</summary>
    private sealed class GatedPublisher : IEventPublisher<int>
    {
        private readonly Lock _lock = new();
        private readonly List<int> _received = [];
        private readonly List<int> _threads = [];

        public ManualResetEventSlim Entered { get; } = new();

        public ManualResetEventSlim Release { get; } = new();

        public List<int> Received
        {
            get
            {
                lock (_lock)
                {
                    return [.. _received];
                }
            }
        }

        public List<int> Threads
        {
            get
            {
                lock (_lock)
                {
                    return [.. _threads];
                }
            }
        }

        public void Publish(ReadOnlySpan<int> batch)
        {
            lock (_lock)
            {
                _received.AddRange(batch);
                _threads.Add(Environment.CurrentManagedThreadId);
            }

            Entered.Set();
            Release.Wait();
        }
    }
}
