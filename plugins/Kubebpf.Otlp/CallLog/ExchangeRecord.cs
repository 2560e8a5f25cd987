using System.Collections;

namespace Kubebpf.Otlp.CallLog;

/// <summary>
/// The state of one call-log record: its attributes, which the OpenTelemetry logger exports as the record's attributes
/// (<c>{OriginalFormat}</c> becomes the body), and the exchange's start, which <see cref="ExchangeTimestampProcessor"/>
/// makes the record's time. Immutable: the batch processor keeps it until export.
/// </summary>
internal sealed class ExchangeRecord(KeyValuePair<string, object?>[] attributes, DateTime start) : IReadOnlyList<KeyValuePair<string, object?>>
{
    /// <summary>When the request's first byte was seen (UTC).</summary>
    public DateTime Start { get; } = start;

    public int Count => attributes.Length;

    public KeyValuePair<string, object?> this[int index] => attributes[index];

    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator() => ((IEnumerable<KeyValuePair<string, object?>>)attributes).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
