using Kubebpf.Sdk.Pipeline;
using Microsoft.Extensions.Logging;

namespace Kubebpf.Agent.Pipeline;

/// <summary>
/// One subscriber behind a deadline. Each batch is copied to the subscriber's own thread and the publisher waits for it
/// up to the deadline. Past it the subscriber is stuck: reported (log, <c>subscriber_timeouts</c>), and until it returns
/// the batches meant for it are dropped and counted (<c>events_dropped_stuck</c>) while the publisher goes on. The batch
/// it is stuck in is still its own: if it returns, it has handled it.
/// </summary>
/// <remarks>
/// Neither side spins while it waits: a batch takes the subscriber far longer than a thread takes to wake (tens of
/// microseconds and more against a few), so spinning, as <see cref="SemaphoreSlim"/> and a default
/// <see cref="ManualResetEventSlim"/> do before they block, mostly burned CPU (about 7% of the agent's at saturation,
/// on the cores the watched applications need) and then blocked anyway.
/// </remarks>
internal sealed partial class GuardedSubscriber<T> : IDisposable
{
    private readonly IEventSubscriber<T> _subscriber;
    private readonly SubscriberOwner _owner;
    private readonly TimeSpan _deadline;
    private readonly ILogger _logger;
    private readonly Counter _timeouts;
    private readonly Counter _droppedWhileStuck;
    private readonly Lock _gate = new(); // one publisher at a time
    private readonly ManualResetEventSlim _work = new(false, spinCount: 0);
    private readonly ManualResetEventSlim _done = new(false, spinCount: 0);
    private readonly Thread _thread;
    private T[] _batch = [];
    private int _count;
    private Exception? _error;
    private bool _stuck;
    private volatile bool _disposed;

    public GuardedSubscriber(IEventSubscriber<T> subscriber, SubscriberOwner owner, TimeSpan deadline, ILogger logger)
    {
        _subscriber = subscriber;
        _owner = owner;
        _deadline = deadline;
        _logger = logger;
        _timeouts = owner.Metrics.Counter("subscriber_timeouts", "times an event subscriber did not return within Agent:SubscriberTimeout (the publisher went on without it)");
        _droppedWhileStuck = owner.Metrics.Counter("events_dropped_stuck", "events not delivered to a subscriber because it was stuck in an earlier batch (a loss)");
        // A background thread: one stuck for good must not keep the process alive.
        _thread = new Thread(Run) { IsBackground = true, Name = $"events {typeof(T).Name} -> {owner.InstanceName}" };
        _thread.Start();
    }

    public bool Disabled { get; private set; }

    /// <summary>Hands <paramref name="batch"/> to the subscriber and waits for it, at most the deadline. Never throws.</summary>
    public void Deliver(ReadOnlySpan<T> batch)
    {
        if (Disabled)
        {
            return;
        }

        // Another publisher waiting on this subscriber waits at most the deadline too.
        if (!_gate.TryEnter(_deadline))
        {
            _droppedWhileStuck.Add(batch.Length);
            return;
        }

        try
        {
            if (_stuck && !Recovered())
            {
                _droppedWhileStuck.Add(batch.Length);
                return;
            }

            if (Disabled)
            {
                return;
            }

            if (_batch.Length < batch.Length)
            {
                _batch = new T[Math.Max(batch.Length, _batch.Length * 2)];
            }

            batch.CopyTo(_batch);
            _count = batch.Length;
            _done.Reset();
            _work.Set();
            if (!_done.Wait(_deadline))
            {
                _stuck = true;
                _timeouts.Increment();
                LogStuck(_owner.InstanceName, typeof(T).Name, _deadline);
                return;
            }

            ReportError();
        }
        finally
        {
            _gate.Exit();
        }
    }

    public void Dispose()
    {
        _disposed = true;
        _work.Set();
    }

    // Under the gate: the stuck call has returned since.
    private bool Recovered()
    {
        if (!_done.IsSet)
        {
            return false;
        }

        _stuck = false;
        LogRecovered(_owner.InstanceName, typeof(T).Name);
        ReportError();
        return true;
    }

    private void ReportError()
    {
        if (_error is { } error)
        {
            Disabled = true;
            _owner.OnFailure(error);
        }
    }

    private void Run()
    {
        while (true)
        {
            _work.Wait();
            // Reset before looking at the flag: a Dispose that set it meanwhile is seen below, not lost.
            _work.Reset();
            if (_disposed)
            {
                return;
            }

            try
            {
                _subscriber.OnEvents(_batch.AsSpan(0, _count));
            }
            catch (Exception ex)
            {
                _error = ex;
            }

            // Events may hold references (strings, details): let them go.
            Array.Clear(_batch, 0, _count);
            _done.Set();
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Plugin instance {Instance} did not handle a batch of {Event} events within {Deadline}; its events are dropped and counted (events_dropped_stuck) until it returns")]
    private partial void LogStuck(string instance, string @event, TimeSpan deadline);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Plugin instance {Instance} handles {Event} events again")]
    private partial void LogRecovered(string instance, string @event);
}
