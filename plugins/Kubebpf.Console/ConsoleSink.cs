using Kubebpf.Sdk.Metrics;
using Kubebpf.Sdk.Pipeline;
using Spectre.Console;

namespace Kubebpf.Console;

/// <summary>
/// Shows the newest R.E.D. window of every protocol (every <c>&lt;protocol&gt;_red</c> measurement) as a table each time
/// a batch brings one, with the agent's loss counters in the header and the latest values of any other measurement
/// below, and optionally prints the call log of every protocol. The host calls <see cref="WriteAsync"/> one batch at a time.
/// Without <see cref="ConsoleSinkOptions.ShowCallLog"/> the call log, the most numerous points, is declined through
/// <see cref="Accepts"/>, so that the host does not buffer it for nothing.
/// </summary>
public sealed class ConsoleSink : IPointSink, IMeasurementFilter
{
    private readonly ConsoleSinkOptions _options;
    private readonly IAnsiConsole _console;
    private readonly TimeZoneInfo _zone;
    private readonly RedWindow _window = new();
    private readonly AgentLosses _losses;
    private readonly OtherMeasurements _others;
    private readonly RedTableRenderer _renderer;
    private readonly bool _redraw;

    /// <summary>Creates the sink writing to <paramref name="console"/>.</summary>
    public ConsoleSink(ConsoleSinkOptions options, IAnsiConsole console, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(console);
        ArgumentNullException.ThrowIfNull(time);
        _options = options;
        _console = console;
        _zone = time.LocalTimeZone;
        _losses = new AgentLosses(options.LossCounterKeywords ?? ConsoleSinkOptions.DefaultLossCounterKeywords);
        _others = new OtherMeasurements(options.MaxOtherSeries);
        var ansi = console.Profile.Capabilities.Ansi;
        _renderer = new RedTableRenderer(options.MaxRows, _zone, asciiBorders: !console.Profile.Capabilities.Unicode);
        // Redrawing in place would wipe the call-log lines printed between two tables.
        _redraw = ansi && options.ClearScreen && !options.ShowCallLog;
    }

    /// <inheritdoc />
    public bool Accepts(string measurement) => _options.ShowCallLog || !PointShapes.IsCallLog(measurement);

    /// <inheritdoc />
    public ValueTask WriteAsync(IReadOnlyList<MetricPoint> batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var windowChanged = false;
        var agentSeen = false;
        foreach (var point in batch)
        {
            if (point.Measurement == _options.AgentMeasurement)
            {
                _losses.Add(point);
                agentSeen = true;
            }
            else if (PointShapes.IsRed(point.Measurement))
            {
                windowChanged |= _window.Add(point);
            }
            else if (PointShapes.IsCallLog(point.Measurement))
            {
                if (_options.ShowCallLog)
                {
                    _console.WriteLine(CallLogLine.Format(point, _zone));
                }
            }
            else
            {
                _others.Add(point);
            }
        }

        // The agent's own points come once per flush: without a new window (before the first, or while only other
        // measurements change) they keep the header, the losses and the other measurements current.
        if (windowChanged || (agentSeen && (_window.IsEmpty || _others.Changed)))
        {
            Render();
        }

        return ValueTask.CompletedTask;
    }

    private void Render()
    {
        if (_redraw)
        {
            _console.Clear(home: true);
        }
        else
        {
            _console.WriteLine();
        }

        _console.Write(_renderer.Render(_window, _losses, _others));
    }
}
