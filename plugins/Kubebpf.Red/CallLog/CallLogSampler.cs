using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using Kubebpf.Sdk.Events;
using Kubebpf.Sdk.Metadata;
using Kubebpf.Sdk.Pipeline;
using Kubebpf.Sdk.Protocols;

namespace Kubebpf.Red.CallLog;

/// <summary>An exchange kept by the sampler and how many exchanges its point stands for.</summary>
internal readonly record struct WeightedExchange(Exchange Exchange, long Weight);

/// <summary>
/// The call-log policy (<see cref="CallLogSamplingOptions"/>): errors and slow calls pass at once; the other exchanges of
/// each budget (workload, direction, protocol) go through a uniform reservoir (Vitter's algorithm R) emptied at every
/// flush, whose members carry integer weights that add up to exactly the exchanges the reservoir saw. Memory: at most
/// <c>MaxWorkloads + 1</c> budgets of at most <c>PerSecond</c> × window held exchanges each, arrays grown only as far as
/// the traffic fills them; budgets idle for a window are dropped. Not thread-safe: the writer calls it under its lock.
/// </summary>
internal sealed class CallLogSampler
{
    // The reservoir must be sized before the window's length is known: the first window assumes the agent's default
    // flush interval, later ones the length of the window before; the real length trims the sample at flush.
    private const double FirstWindowSeconds = 10;
    private const int FirstArrayLength = 16;

    private readonly CallLogSamplingOptions _options;
    private readonly SamplingRule[] _rules;
    private readonly Random _random;
    private readonly Counter _sampledOut;
    private readonly Counter _budgetOverflow;
    private readonly Dictionary<InstanceKey, Budget> _byInstance = [];
    private readonly Dictionary<BudgetKey, Budget> _budgets = [];
    private readonly Budget _overflow;
    private long _window;
    private double _windowSeconds = FirstWindowSeconds;
    private int _budgetsHeld;

    public CallLogSampler(CallLogSamplingOptions options, IAgentMetrics metrics, Random? random = null)
    {
        _options = options;
        _rules = [.. options.Overrides.Select(SamplingRule.Of)];
        _random = random ?? new Random();
        _sampledOut = metrics.Counter(
            "call_log_sampled_out", "A successful, fast exchange without a call-log point of its own: a kept point's weight stands for it.");
        _budgetOverflow = metrics.Counter(
            "call_log_budget_overflow", "An exchange sampled in the shared budget because CallLog:Sampling:MaxWorkloads budgets were already tracked.");
        metrics.Gauge("call_log_budgets", "Call-log sampling budgets (workload, direction, protocol) tracked.", () => Volatile.Read(ref _budgetsHeld));
        _overflow = new Budget(options.PerSecond, Ticks(options.SlowThreshold), isOverflow: true);
        _overflow.Resize(_windowSeconds);
    }

    /// <summary>
    /// True when <paramref name="exchange"/> gets its point now, with weight 1 (an error or a slow call); otherwise the
    /// sampler has taken it into its budget, which <see cref="Drain"/> empties.
    /// </summary>
    public bool KeepsAtOnce(in Exchange exchange)
    {
        var budget = BudgetOf(exchange);
        if (exchange.Outcome != ExchangeOutcome.Success || exchange.DurationNs >= budget.SlowThresholdNs)
        {
            return true;
        }

        budget.Offer(exchange, _random);
        return false;
    }

    /// <summary>
    /// Ends the window of <paramref name="windowSeconds"/>: adds each budget's sample, at most its <c>PerSecond</c>
    /// × the window (rounded up) exchanges, with their weights to <paramref name="kept"/>, counts the rest, and drops
    /// budgets that saw nothing in the window.
    /// </summary>
    public void Drain(double windowSeconds, List<WeightedExchange> kept)
    {
        long sampledOut = 0;
        foreach (var (key, budget) in _budgets)
        {
            if (budget.LastUsedWindow < _window)
            {
                _budgets.Remove(key);
                continue;
            }

            sampledOut += budget.Drain(windowSeconds, _random, kept);
        }

        sampledOut += _overflow.Drain(windowSeconds, _random, kept);
        if (sampledOut > 0)
        {
            _sampledOut.Add(sampledOut);
        }

        _byInstance.Clear();
        _window++;
        _windowSeconds = windowSeconds;
        Volatile.Write(ref _budgetsHeld, _budgets.Count);
    }

    private Budget BudgetOf(in Exchange exchange)
    {
        var instance = new InstanceKey(exchange.Workload, exchange.Direction, exchange.Protocol);
        if (!_byInstance.TryGetValue(instance, out var budget))
        {
            budget = Find(BudgetKey.Of(exchange));
            _byInstance.Add(instance, budget);
        }

        if (budget.IsOverflow)
        {
            _budgetOverflow.Increment();
        }

        budget.LastUsedWindow = _window;
        return budget;
    }

    private Budget Find(BudgetKey key)
    {
        if (_budgets.TryGetValue(key, out var budget))
        {
            return budget;
        }

        if (_budgets.Count >= _options.MaxWorkloads)
        {
            return _overflow;
        }

        var rule = Array.Find(_rules, r => r.Matches(key));
        budget = new Budget(
            rule?.PerSecond ?? _options.PerSecond, Ticks(rule?.SlowThreshold ?? _options.SlowThreshold), isOverflow: false);
        budget.Resize(_windowSeconds);
        _budgets.Add(key, budget);
        Volatile.Write(ref _budgetsHeld, _budgets.Count);
        return budget;
    }

    private static long Ticks(TimeSpan threshold) => threshold.Ticks * TimeSpan.NanosecondsPerTick;

    /// <summary>One budget's reservoir over the current window.</summary>
    private sealed class Budget(int perSecond, long slowThresholdNs, bool isOverflow)
    {
        private Exchange[] _held = [];
        private int _count;
        private int _capacity;
        private long _seen;

        public long SlowThresholdNs { get; } = slowThresholdNs;

        /// <summary>The shared budget of exchanges beyond <c>MaxWorkloads</c>.</summary>
        public bool IsOverflow { get; } = isOverflow;

        public long LastUsedWindow { get; set; }

        /// <summary>Sizes the reservoir for a window as long as <paramref name="windowSeconds"/>.</summary>
        public void Resize(double windowSeconds) => _capacity = Allowed(windowSeconds);

        /// <summary>Algorithm R: the first <c>capacity</c> fill the reservoir, the n-th replaces a random member with probability capacity / n.</summary>
        public void Offer(in Exchange exchange, Random random)
        {
            _seen++;
            if (_count < _capacity)
            {
                if (_count == _held.Length)
                {
                    Array.Resize(ref _held, Math.Min(_capacity, Math.Max(FirstArrayLength, 2 * _held.Length)));
                }

                _held[_count++] = exchange;
                return;
            }

            if (_capacity > 0)
            {
                var slot = random.NextInt64(_seen);
                if (slot < _capacity)
                {
                    _held[slot] = exchange;
                }
            }
        }

        /// <summary>
        /// Adds at most <see cref="Allowed"/> of the held exchanges (a uniform subset of them, so still a uniform sample
        /// of the window) to <paramref name="kept"/>, each weighing <c>seen / kept</c>, the remainder spread one each
        /// from a random member on; returns the exchanges seen but not kept, and starts the next window.
        /// </summary>
        public long Drain(double windowSeconds, Random random, List<WeightedExchange> kept)
        {
            var count = Math.Min(_count, Allowed(windowSeconds));
            for (var i = 0; i < count && count < _count; i++)
            {
                var pick = random.Next(i, _count);
                (_held[i], _held[pick]) = (_held[pick], _held[i]);
            }

            if (count > 0)
            {
                var weight = _seen / count;
                var remainder = _seen % count;
                var first = random.Next(count);
                for (var i = 0; i < count; i++)
                {
                    kept.Add(new WeightedExchange(_held[i], weight + ((i - first + count) % count < remainder ? 1 : 0)));
                }
            }

            var sampledOut = _seen - count;
            Array.Clear(_held, 0, _count); // the exchanges' strings and details are not kept alive for another window
            _count = 0;
            _seen = 0;
            Resize(windowSeconds);
            return sampledOut;
        }

        private int Allowed(double windowSeconds) => (int)Math.Min(Math.Ceiling(perSecond * windowSeconds), int.MaxValue);
    }

    /// <summary>An override entry, its pattern compiled once.</summary>
    private sealed class SamplingRule(Regex workload, string? protocol, int? perSecond, TimeSpan? slowThreshold)
    {
        public int? PerSecond { get; } = perSecond;

        public TimeSpan? SlowThreshold { get; } = slowThreshold;

        public static SamplingRule Of(CallLogSamplingOverride entry) => new(
            new Regex("^" + Regex.Escape(entry.Workload).Replace("\\*", ".*", StringComparison.Ordinal).Replace("\\?", ".", StringComparison.Ordinal) + "$",
                RegexOptions.CultureInvariant | RegexOptions.Singleline),
            entry.Protocol,
            entry.PerSecond,
            entry.SlowThreshold);

        public bool Matches(BudgetKey key) =>
            (protocol is null || string.Equals(protocol, key.Protocol.Name, StringComparison.OrdinalIgnoreCase))
            && workload.IsMatch(key.Name is null ? WorkloadTags.UnknownWorkload : $"{key.Namespace}/{key.Name}");
    }

    /// <summary>
    /// A budget: the workload (namespace, kind, name; all null for one that does not resolve), direction and protocol.
    /// The protocol compares by reference: one descriptor per protocol.
    /// </summary>
    private readonly record struct BudgetKey(string? Namespace, string? Kind, string? Name, TrafficDirection Direction, ProtocolDescriptor Protocol)
    {
        public static BudgetKey Of(in Exchange exchange) => new(
            exchange.Workload?.Namespace, exchange.Workload?.WorkloadKind, exchange.Workload?.WorkloadName, exchange.Direction, exchange.Protocol);

        public bool Equals(BudgetKey other) =>
            Direction == other.Direction && ReferenceEquals(Protocol, other.Protocol)
            && string.Equals(Name, other.Name, StringComparison.Ordinal) && string.Equals(Namespace, other.Namespace, StringComparison.Ordinal)
            && string.Equals(Kind, other.Kind, StringComparison.Ordinal);

        public override int GetHashCode() => HashCode.Combine(Namespace, Kind, Name, Direction, RuntimeHelpers.GetHashCode(Protocol));
    }

    /// <summary>
    /// The per-window shortcut to a budget: metadata sources hand out one identity instance per pod, so a reference
    /// lookup usually answers without hashing names. Cleared at every flush.
    /// </summary>
    private readonly record struct InstanceKey(WorkloadIdentity? Workload, TrafficDirection Direction, ProtocolDescriptor Protocol)
    {
        public bool Equals(InstanceKey other) =>
            ReferenceEquals(Workload, other.Workload) && Direction == other.Direction && ReferenceEquals(Protocol, other.Protocol);

        public override int GetHashCode() =>
            HashCode.Combine(RuntimeHelpers.GetHashCode(Workload), Direction, RuntimeHelpers.GetHashCode(Protocol));
    }
}
