namespace Kubebpf.Sdk.Pipeline;

/// <summary>
/// Publishes events of type <typeparamref name="T"/> to every subscriber, across plugins. Provided by the host.
/// Event types that cross plugins must live in the SDK (see <see cref="Events.Exchange"/>).
/// </summary>
public interface IEventPublisher<T>
{
    /// <summary>
    /// Delivers a batch to each subscriber in turn and returns once each has handled it, or once a subscriber has taken
    /// longer than the agent's <c>SubscriberTimeout</c> (that one is reported, and until it returns the events meant for
    /// it are dropped and counted). Call it once per drained batch, not once per event. A subscriber that throws is
    /// disabled and reported; the others still receive the batch. The span is only valid during the call.
    /// </summary>
    void Publish(ReadOnlySpan<T> batch);

    /// <summary>
    /// Whether a subscriber takes these events now. A publisher may skip building events nobody would receive (the
    /// capture builds no connection reports while no plugin instance subscribes to them); the answer can change as
    /// instances start or fail, so ask when about to build, not once. True unless the publisher knows better.
    /// </summary>
    bool HasSubscribers => true;
}

/// <summary>Receives batches of events of type <typeparamref name="T"/>.</summary>
public interface IEventSubscriber<T>
{
    /// <summary>
    /// Handles a batch. Called on a host thread of this subscriber's own (a copy of the publisher's batch), never
    /// concurrently with itself, but concurrently with <see cref="IFlushable.Flush"/>: implementations that keep state
    /// synchronise. Must not block (past the agent's <c>SubscriberTimeout</c> the events meant for it are dropped and
    /// counted), and must not keep the span.
    /// </summary>
    void OnEvents(ReadOnlySpan<T> batch);
}

/// <summary>Registration record the host reads to connect a subscriber; created by <c>AddEventSubscriber</c>.</summary>
/// <param name="EventType">The event type subscribed to.</param>
/// <param name="SubscriberType">The service type to resolve (an <see cref="IEventSubscriber{T}"/>).</param>
public sealed record EventSubscription(Type EventType, Type SubscriberType);
