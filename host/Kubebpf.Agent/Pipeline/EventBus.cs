using System.Collections.Concurrent;
using Kubebpf.Sdk.Pipeline;

namespace Kubebpf.Agent.Pipeline;

/// <summary>Connects publishers and subscribers of SDK event types across plugins; one channel per event type.</summary>
internal sealed class EventBus
{
    private readonly ConcurrentDictionary<Type, object> _channels = new();

    public EventChannel<T> Channel<T>() => (EventChannel<T>)_channels.GetOrAdd(typeof(T), _ => new EventChannel<T>());

    /// <summary>Subscribes an instance known only at run time (from an <see cref="EventSubscription"/>).</summary>
    public void Subscribe(Type eventType, object subscriber, Action<Exception> onFailure) =>
        typeof(EventBus).GetMethod(nameof(SubscribeTyped), System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!
            .MakeGenericMethod(eventType)
            .Invoke(this, [subscriber, onFailure]);

    private void SubscribeTyped<T>(object subscriber, Action<Exception> onFailure) =>
        Channel<T>().Subscribe((IEventSubscriber<T>)subscriber, onFailure);
}

/// <summary>
/// Delivers batches synchronously on the publisher's thread. A subscriber that throws is disabled for good and
/// reported through its failure callback, so one broken plugin cannot stall or crash a probe.
/// </summary>
internal sealed class EventChannel<T> : IEventPublisher<T>
{
    private readonly Lock _subscribeLock = new();
    private Subscription[] _subscriptions = [];

    public int SubscriberCount => Volatile.Read(ref _subscriptions).Count(s => !s.Disabled);

    public void Subscribe(IEventSubscriber<T> subscriber, Action<Exception> onFailure)
    {
        lock (_subscribeLock)
        {
            _subscriptions = [.. _subscriptions, new Subscription(subscriber, onFailure)];
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
            if (subscription.Disabled)
            {
                continue;
            }

            try
            {
                subscription.Subscriber.OnEvents(batch);
            }
            catch (Exception ex)
            {
                subscription.Disabled = true;
                subscription.OnFailure(ex);
            }
        }
    }

    private sealed class Subscription(IEventSubscriber<T> subscriber, Action<Exception> onFailure)
    {
        public IEventSubscriber<T> Subscriber { get; } = subscriber;

        public Action<Exception> OnFailure { get; } = onFailure;

        public volatile bool Disabled;
    }
}

/// <summary>The open-generic <see cref="IEventPublisher{T}"/> plugins resolve from their container.</summary>
internal sealed class BusPublisher<T>(EventBus bus) : IEventPublisher<T>
{
    private readonly EventChannel<T> _channel = bus.Channel<T>();

    public void Publish(ReadOnlySpan<T> batch) => _channel.Publish(batch);
}
