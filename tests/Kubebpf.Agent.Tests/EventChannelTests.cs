using Kubebpf.Agent.Pipeline;
using Kubebpf.Sdk.Pipeline;
using Kubebpf.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kubebpf.Agent.Tests;

/// <summary>The event bus's hand-off to subscriber threads, without a plugin around it.</summary>
public sealed class EventChannelTests
{
    [Fact]
    public void Each_batch_is_handled_before_publish_returns_batch_after_batch()
    {
        using var channel = new EventChannel<int>(TimeSpan.FromSeconds(10), NullLogger.Instance);
        var metrics = new TestAgentMetrics();
        var subscriber = new Summing();
        channel.Subscribe(subscriber, new SubscriberOwner("sum", metrics, ex => throw ex));

        // Thousands of hand-offs in a row: a wake-up lost between the two threads would leave a batch unhandled
        // until the deadline, and the sum behind.
        long expected = 0;
        for (var i = 1; i <= 5_000; i++)
        {
            channel.Publish([i, -1]);
            expected += i - 1;
            Assert.Equal(expected, subscriber.Sum);
        }

        Assert.Equal(0, metrics.Value("subscriber_timeouts"));
    }

    [Fact]
    public void A_channel_has_subscribers_from_the_first_subscription_until_every_one_has_failed()
    {
        using var channel = new EventChannel<int>(TimeSpan.FromSeconds(10), NullLogger.Instance);
        var failures = new List<Exception>();
        Assert.False(channel.HasSubscribers);

        channel.Subscribe(new Throwing(), new SubscriberOwner("broken", new TestAgentMetrics(), failures.Add));
        Assert.True(channel.HasSubscribers);

        channel.Publish([1]);
        Assert.IsType<InvalidOperationException>(Assert.Single(failures));
        Assert.False(channel.HasSubscribers);
    }

    private sealed class Summing : IEventSubscriber<int>
    {
        public long Sum { get; private set; }

        public void OnEvents(ReadOnlySpan<int> batch)
        {
            foreach (var value in batch)
            {
                Sum += value;
            }
        }
    }

    private sealed class Throwing : IEventSubscriber<int>
    {
        public void OnEvents(ReadOnlySpan<int> batch) => throw new InvalidOperationException("broken subscriber");
    }
}
