using System.Collections.Concurrent;
using Kubebpf.Sdk.Pipeline;
using Microsoft.Extensions.Logging;

namespace Kubebpf.Agent.Pipeline;

/// <summary>A subscriber's plugin instance, as the bus reports it: its name, self-metrics and failure callback.</summary>
internal sealed record SubscriberOwner(string InstanceName, IAgentMetrics Metrics, Action<Exception> OnFailure);

/// <summary>Connects publishers and subscribers of SDK event types across plugins; one channel per event type.</summary>
/// <param name="deadline">How long a publisher waits for one subscriber's batch before it reports the subscriber stuck and moves on.</param>
/// <param name="logger">Where stuck and recovered subscribers are reported.</param>
internal sealed class EventBus(TimeSpan deadline, ILogger logger) : IDisposable
{
    private readonly ConcurrentDictionary<Type, IDisposable> _channels = new();

    public EventChannel<T> Channel<T>() => (EventChannel<T>)_channels.GetOrAdd(typeof(T), _ => new EventChannel<T>(deadline, logger));

    /// <summary>Subscribes an instance known only at run time (from an <see cref="EventSubscription"/>).</summary>
    public void Subscribe(Type eventType, object subscriber, SubscriberOwner owner) =>
        typeof(EventBus).GetMethod(nameof(SubscribeTyped), System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!
            .MakeGenericMethod(eventType)
            .Invoke(this, [subscriber, owner]);

    public void Dispose()
    {
        foreach (var channel in _channels.Values)
        {
            channel.Dispose();
        }
    }

    private void SubscribeTyped<T>(object subscriber, SubscriberOwner owner) =>
        Channel<T>().Subscribe((IEventSubscriber<T>)subscriber, owner);
}

/// <summary>
/// Delivers each batch to every subscriber in turn and waits for each, as a synchronous call would; but the call runs on
/// the subscriber's own thread, so that one that blocks costs the publisher (a capture thread) at most the deadline.
/// A subscriber that throws is disabled for good and reported through its owner, so one broken plugin cannot stall or
/// crash a probe.
/// </summary>
internal sealed class EventChannel<T>(TimeSpan deadline, ILogger logger) : IEventPublisher<T>, IDisposable
{
    private readonly Lock _subscribeLock = new();
    private GuardedSubscriber<T>[] _subscriptions = [];

    public int SubscriberCount => Volatile.Read(ref _subscriptions).Count(s => !s.Disabled);

    /// <summary>Whether a subscriber that has not failed takes this channel's events (asked per event built: no allocation).</summary>
    public bool HasSubscribers
    {
        get
        {
            foreach (var subscription in Volatile.Read(ref _subscriptions))
            {
                if (!subscription.Disabled)
                {
                    return true;
                }
            }

            return false;
        }
    }

    public void Subscribe(IEventSubscriber<T> subscriber, SubscriberOwner owner)
    {
        lock (_subscribeLock)
        {
            _subscriptions = [.. _subscriptions, new GuardedSubscriber<T>(subscriber, owner, deadline, logger)];
        }
    }

    public void Publish(ReadOnlySpan<T> batch)
    {
        if (batch.IsEmpty)
        {
            return;
        }

        foreach (var subscription in Volatile.Read(ref _subscriptions))
        {
            subscription.Deliver(batch);
        }
    }

    public void Dispose()
    {
        foreach (var subscription in Volatile.Read(ref _subscriptions))
        {
            subscription.Dispose();
        }
    }
}

/// <summary>The open-generic <see cref="IEventPublisher{T}"/> plugins resolve from their container.</summary>
internal sealed class BusPublisher<T>(EventBus bus) : IEventPublisher<T>
{
    private readonly EventChannel<T> _channel = bus.Channel<T>();

    public void Publish(ReadOnlySpan<T> batch) => _channel.Publish(batch);

    public bool HasSubscribers => _channel.HasSubscribers;
}
