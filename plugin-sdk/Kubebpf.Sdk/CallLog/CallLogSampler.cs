using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using Kubebpf.Sdk.Events;
using Kubebpf.Sdk.Metadata;
using Kubebpf.Sdk.Pipeline;
using Kubebpf.Sdk.Protocols;

namespace Kubebpf.Sdk.CallLog;

/// <summary>An exchange kept by <see cref="CallLogSampler"/> and how many exchanges its record stands for.</summary>
/// <param name="Exchange">The exchange whose record is written.</param>
/// <param name="Weight">The exchanges the record stands for, itself included: at least 1.</param>
public readonly record struct WeightedExchange(Exchange Exchange, long Weight);

/// <summary>
/// The call-log policy (<see cref="CallLogSamplingOptions"/>), shared by every plugin that writes a call log so that
/// each writes the same records with the same weights. Each budget (workload, direction, protocol) has three classes:
/// errors, slow calls and the others. Errors and slow calls pass at once (weight 1) up to <c>AtOncePerSecond</c> ×
/// the window each; the further ones of the class, and the others, go through a uniform reservoir (Vitter's algorithm
/// R) emptied at every <see cref="Drain"/>, whose members carry integer weights that add up to exactly the exchanges
/// the reservoir saw. So per budget and class, the weights of the window's records add up to its exchanges.
/// Memory: at most <c>MaxWorkloads + 1</c> budgets of at most (<c>PerSecond</c> + 2 × <c>AtOncePerSecond</c>) ×
/// window held exchanges each, arrays grown only as far as the traffic fills them; budgets idle for a window are
/// dropped. Not thread-safe: callers serialise <see cref="KeepsAtOnce"/> and <see cref="Drain"/>.
/// </summary>
/// <remarks>
/// Registers the self-metrics <c>call_log_sampled_out</c>, <c>call_log_errors_sampled_out</c>,
/// <c>call_log_slow_sampled_out</c>, <c>call_log_budget_overflow</c> and the gauge <c>call_log_budgets</c>.
/// </remarks>
public sealed class CallLogSampler
{
    /// <summary>The workload an exchange without one matches in <see cref="CallLogSamplingOverride.Workload"/> patterns.</summary>
    public const string UnknownWorkload = "unknown";

    // Allowances and reservoirs must be sized before the window's length is known: the first window assumes the
    // agent's default flush interval, later ones the length of the window before; the real length trims the sample.
    private const double FirstWindowSeconds = 10;
    private const int FirstArrayLength = 16;

    private readonly CallLogSamplingOptions _options;
    private readonly SamplingRule[] _rules;
    private readonly Random _random;
    private readonly Counter _sampledOut;
    private readonly Counter _errorsSampledOut;
    private readonly Counter _slowSampledOut;
    private readonly Counter _budgetOverflow;
    private readonly Dictionary<InstanceKey, Budget> _byInstance = [];
    private readonly Dictionary<BudgetKey, Budget> _budgets = [];
    private readonly Budget _overflow;
    private long _window;
    private double _windowSeconds = FirstWindowSeconds;
    private int _budgetsHeld;

    /// <summary>Creates the sampler of one plugin instance and registers its self-metrics in <paramref name="metrics"/>.</summary>
    /// <param name="options">The policy; validated (<see cref="CallLogSamplingOptions.Validate"/>) and enabled.</param>
    /// <param name="metrics">The instance's self-metrics.</param>
    /// <param name="random">Drives the sample; null: a new <see cref="Random"/>. Tests pass a seeded one.</param>
    public CallLogSampler(CallLogSamplingOptions options, IAgentMetrics metrics, Random? random = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(metrics);
        _options = options;
        _rules = [.. options.Overrides.Select(SamplingRule.Of)];
        _random = random ?? new Random();
        _sampledOut = metrics.Counter(
            "call_log_sampled_out", "A successful, fast exchange without a call-log record of its own: a kept record's weight stands for it.");
        _errorsSampledOut = metrics.Counter(
            "call_log_errors_sampled_out",
            "An error beyond CallLog:Sampling:AtOncePerSecond without a call-log record of its own: a kept error's weight stands for it.");
        _slowSampledOut = metrics.Counter(
            "call_log_slow_sampled_out",
            "A slow call beyond CallLog:Sampling:AtOncePerSecond without a call-log record of its own: a kept slow call's weight stands for it.");
        _budgetOverflow = metrics.Counter(
            "call_log_budget_overflow", "An exchange sampled in the shared budget because CallLog:Sampling:MaxWorkloads budgets were already tracked.");
        metrics.Gauge("call_log_budgets", "Call-log sampling budgets (workload, direction, protocol) tracked.", () => Volatile.Read(ref _budgetsHeld));
        _overflow = new Budget(new BudgetSettings(options.PerSecond, options.AtOncePerSecond, Nanoseconds(options.SlowThreshold)), isOverflow: true);
        _overflow.Resize(_windowSeconds);
    }

    /// <summary>
    /// True when <paramref name="exchange"/> gets its record now, with weight 1 (an error or a slow call within its
    /// class's allowance); otherwise the sampler has taken it into a reservoir, which <see cref="Drain"/> empties.
    /// </summary>
    public bool KeepsAtOnce(in Exchange exchange)
    {
        var budget = BudgetOf(exchange);
        if (exchange.Outcome != ExchangeOutcome.Success)
        {
            return budget.Errors.KeepsAtOnce(exchange, _random);
        }

        if (exchange.DurationNs >= budget.Settings.SlowThresholdNs)
        {
            return budget.Slow.KeepsAtOnce(exchange, _random);
        }

        budget.Ordinary.Offer(exchange, _random);
        return false;
    }

    /// <summary>
    /// Ends the window of <paramref name="windowSeconds"/>: adds each reservoir's sample, at most its rate × the window
    /// (rounded up) exchanges, with their weights to <paramref name="kept"/>, counts the rest, and drops budgets that
    /// saw nothing in the window.
    /// </summary>
    public void Drain(double windowSeconds, List<WeightedExchange> kept)
    {
        ArgumentNullException.ThrowIfNull(kept);
        var sampledOut = new SampledOut();
        foreach (var (key, budget) in _budgets)
        {
            if (budget.LastUsedWindow < _window)
            {
                _budgets.Remove(key);
                continue;
            }

            budget.Drain(windowSeconds, _random, kept, ref sampledOut);
        }

        _overflow.Drain(windowSeconds, _random, kept, ref sampledOut);
        AddIfAny(_sampledOut, sampledOut.Ordinary);
        AddIfAny(_errorsSampledOut, sampledOut.Errors);
        AddIfAny(_slowSampledOut, sampledOut.Slow);
        _byInstance.Clear();
        _window++;
        _windowSeconds = windowSeconds;
        Volatile.Write(ref _budgetsHeld, _budgets.Count);
    }

    private static void AddIfAny(Counter counter, long amount)
    {
        if (amount > 0)
        {
            counter.Add(amount);
        }
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
            new BudgetSettings(
                rule?.PerSecond ?? _options.PerSecond,
                rule?.AtOncePerSecond ?? _options.AtOncePerSecond,
                Nanoseconds(rule?.SlowThreshold ?? _options.SlowThreshold)),
            isOverflow: false);
        budget.Resize(_windowSeconds);
        _budgets.Add(key, budget);
        Volatile.Write(ref _budgetsHeld, _budgets.Count);
        return budget;
    }

    private static long Nanoseconds(TimeSpan threshold) => threshold.Ticks * TimeSpan.NanosecondsPerTick;

    private static int Allowed(int perSecond, double windowSeconds) => (int)Math.Min(Math.Ceiling(perSecond * windowSeconds), int.MaxValue);

    /// <summary>What the reservoirs of one drain left without a record, per class.</summary>
    private struct SampledOut
    {
        public long Ordinary;
        public long Errors;
        public long Slow;
    }

    /// <summary>A budget's rates (0 <c>AtOncePerSecond</c>: no bound) and slow threshold.</summary>
    private readonly record struct BudgetSettings(int PerSecond, int AtOncePerSecond, long SlowThresholdNs);

    /// <summary>One budget's three classes over the current window.</summary>
    private sealed class Budget(BudgetSettings settings, bool isOverflow)
    {
        public BudgetSettings Settings { get; } = settings;

        /// <summary>The shared budget of exchanges beyond <c>MaxWorkloads</c>.</summary>
        public bool IsOverflow { get; } = isOverflow;

        public long LastUsedWindow { get; set; }

        public Reservoir Ordinary { get; } = new(settings.PerSecond);

        public BoundedClass Errors { get; } = new(settings.AtOncePerSecond);

        public BoundedClass Slow { get; } = new(settings.AtOncePerSecond);

        /// <summary>Sizes the reservoirs and allowances for a window as long as <paramref name="windowSeconds"/>.</summary>
        public void Resize(double windowSeconds)
        {
            Ordinary.Resize(windowSeconds);
            Errors.Resize(windowSeconds);
            Slow.Resize(windowSeconds);
        }

        public void Drain(double windowSeconds, Random random, List<WeightedExchange> kept, ref SampledOut sampledOut)
        {
            sampledOut.Ordinary += Ordinary.Drain(windowSeconds, random, kept);
            sampledOut.Errors += Errors.Drain(windowSeconds, random, kept);
            sampledOut.Slow += Slow.Drain(windowSeconds, random, kept);
        }
    }

    /// <summary>
    /// Errors or slow calls of one budget: the first <c>perSecond</c> × the expected window pass at once, the further
    /// ones go through a reservoir of the same size. A rate of 0 lets every one pass.
    /// </summary>
    private sealed class BoundedClass(int perSecond)
    {
        private readonly Reservoir _beyond = new(perSecond);
        private int _atOnceLeft;

        public bool KeepsAtOnce(in Exchange exchange, Random random)
        {
            if (perSecond == 0)
            {
                return true;
            }

            if (_atOnceLeft > 0)
            {
                _atOnceLeft--;
                return true;
            }

            _beyond.Offer(exchange, random);
            return false;
        }

        public void Resize(double windowSeconds)
        {
            _atOnceLeft = Allowed(perSecond, windowSeconds);
            _beyond.Resize(windowSeconds);
        }

        /// <summary>Drains the reservoir of the further ones and grants the next window's allowance.</summary>
        public long Drain(double windowSeconds, Random random, List<WeightedExchange> kept)
        {
            var sampledOut = _beyond.Drain(windowSeconds, random, kept);
            _atOnceLeft = Allowed(perSecond, windowSeconds);
            return sampledOut;
        }
    }

    /// <summary>A uniform reservoir over the current window, of <c>perSecond</c> × the window's length.</summary>
    private sealed class Reservoir(int perSecond)
    {
        private Exchange[] _held = [];
        private int _count;
        private int _capacity;
        private long _seen;

        /// <summary>Sizes the reservoir for a window as long as <paramref name="windowSeconds"/>.</summary>
        public void Resize(double windowSeconds) => _capacity = Allowed(perSecond, windowSeconds);

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
        /// Adds at most <c>perSecond</c> × <paramref name="windowSeconds"/> (rounded up) of the held exchanges (a uniform
        /// subset of them, so still a uniform sample of the window) to <paramref name="kept"/>,
        /// each weighing <c>seen / kept</c>, the remainder spread one each from a random member on; returns the
        /// exchanges seen but not kept, and starts the next window.
        /// </summary>
        public long Drain(double windowSeconds, Random random, List<WeightedExchange> kept)
        {
            var count = Math.Min(_count, Allowed(perSecond, windowSeconds));
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
    }

    /// <summary>An override entry, its pattern compiled once.</summary>
    private sealed class SamplingRule(Regex workload, string? protocol, int? perSecond, int? atOncePerSecond, TimeSpan? slowThreshold)
    {
        public int? PerSecond { get; } = perSecond;

        public int? AtOncePerSecond { get; } = atOncePerSecond;

        public TimeSpan? SlowThreshold { get; } = slowThreshold;

        public static SamplingRule Of(CallLogSamplingOverride entry) => new(
            new Regex("^" + Regex.Escape(entry.Workload).Replace("\\*", ".*", StringComparison.Ordinal).Replace("\\?", ".", StringComparison.Ordinal) + "$",
                RegexOptions.CultureInvariant | RegexOptions.Singleline),
            entry.Protocol,
            entry.PerSecond,
            entry.AtOncePerSecond,
            entry.SlowThreshold);

        public bool Matches(BudgetKey key) =>
            (protocol is null || string.Equals(protocol, key.Protocol.Name, StringComparison.OrdinalIgnoreCase))
            && workload.IsMatch(key.Name is null ? UnknownWorkload : $"{key.Namespace}/{key.Name}");
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
    /// lookup usually answers without hashing names. Cleared at every drain.
    /// </summary>
    private readonly record struct InstanceKey(WorkloadIdentity? Workload, TrafficDirection Direction, ProtocolDescriptor Protocol)
    {
        public bool Equals(InstanceKey other) =>
            ReferenceEquals(Workload, other.Workload) && Direction == other.Direction && ReferenceEquals(Protocol, other.Protocol);

        public override int GetHashCode() =>
            HashCode.Combine(RuntimeHelpers.GetHashCode(Workload), Direction, RuntimeHelpers.GetHashCode(Protocol));
    }
}
