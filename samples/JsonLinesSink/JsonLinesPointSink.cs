using System.Text.Json;
using Kubebpf.Sdk.Metrics;
using Kubebpf.Sdk.Pipeline;

namespace JsonLinesSink;

/// <summary>
/// Appends each point as <c>{"measurement":..,"tags":{..},"fields":{..},"timestamp":ns}</c> and a newline, one batch per
/// write, flushed before returning. The host calls it from one pump task at a time, and retries an I/O failure
/// (thrown as <see cref="SinkWriteException"/>) with backoff. With <c>Measurements</c> configured, it declines the others
/// (<see cref="IMeasurementFilter"/>) so that the host does not buffer them for it.
/// </summary>
internal sealed class JsonLinesPointSink : IPointSink, IMeasurementFilter, IAsyncDisposable
{
    private readonly JsonLinesOptions _options;
    private readonly HashSet<string> _measurements;
    private FileStream? _file;

    public JsonLinesPointSink(JsonLinesOptions options)
    {
        _options = options;
        _measurements = new HashSet<string>(options.Measurements, StringComparer.Ordinal);
    }

    public bool Accepts(string measurement) => _measurements.Count == 0 || _measurements.Contains(measurement);

    public async ValueTask WriteAsync(IReadOnlyList<MetricPoint> batch, CancellationToken cancellationToken)
    {
        try
        {
            var file = _file ??= Open(_options.Path);
            await using (var json = new Utf8JsonWriter(file))
            {
                foreach (var point in batch)
                {
                    if (Accepts(point.Measurement))
                    {
                        Write(json, point);
                        await json.FlushAsync(cancellationToken).ConfigureAwait(false);
                        file.WriteByte((byte)'\n');
                        json.Reset(); // the next line is a new JSON document
                    }
                }
            }

            await file.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (IOException ex)
        {
            // Disk full, file removed with its folder, ...: let the host keep the batch and retry.
            _file?.Dispose();
            _file = null;
            throw new SinkWriteException($"Appending to {_options.Path} failed: {ex.Message}", inner: ex);
        }
    }

    private static void Write(Utf8JsonWriter json, MetricPoint point)
    {
        json.WriteStartObject();
        json.WriteString("measurement", point.Measurement);
        json.WriteStartObject("tags");
        foreach (var tag in point.Tags)
        {
            json.WriteString(tag.Key, tag.Value);
        }

        json.WriteEndObject();
        json.WriteStartObject("fields");
        foreach (var field in point.Fields)
        {
            WriteValue(json, field.Key, field.Value);
        }

        json.WriteEndObject();
        json.WriteNumber("timestamp", point.TimestampUnixNs);
        json.WriteEndObject();
    }

    private static void WriteValue(Utf8JsonWriter json, string key, FieldValue value)
    {
        switch (value.Kind)
        {
            case FieldKind.Float:
                json.WriteNumber(key, value.AsDouble);
                break;
            case FieldKind.Integer:
                json.WriteNumber(key, value.AsLong);
                break;
            case FieldKind.UInteger:
                json.WriteNumber(key, value.AsULong);
                break;
            case FieldKind.Boolean:
                json.WriteBoolean(key, value.AsBool);
                break;
            default:
                json.WriteString(key, value.AsString);
                break;
        }
    }

    private static FileStream Open(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        return new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read);
    }

    public async ValueTask DisposeAsync()
    {
        if (_file is not null)
        {
            await _file.DisposeAsync().ConfigureAwait(false);
        }
    }
}
