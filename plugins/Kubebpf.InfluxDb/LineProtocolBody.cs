using System.Buffers;
using System.IO.Compression;
using System.Net.Http.Headers;
using System.Text;
using Kubebpf.Sdk.Metrics;
using Kubebpf.Sdk.Pipeline;

namespace Kubebpf.InfluxDb;

/// <summary>
/// The request body of one write: the batch as line protocol in a buffer reused from batch to batch (the host never
/// writes concurrently to one sink, so one encoder serves it), gzip-compressed above a threshold. Counts what line protocol cannot carry.
/// </summary>
internal sealed class LineProtocolBody
{
    private readonly ArrayBufferWriter<byte> _text = new(64 * 1024);
    private readonly MemoryStream _compressed = new();
    private readonly LineProtocolEncoder _encoder;
    private readonly Counter _fieldsSkipped;
    private readonly Counter _pointsSkipped;

    public LineProtocolBody(LineProtocolOptions format, IAgentMetrics metrics)
    {
        _encoder = new LineProtocolEncoder(format);
        _fieldsSkipped = metrics.Counter("fields_skipped", "fields left out: NaN or infinite floats, empty keys (line protocol has no form for them)");
        _pointsSkipped = metrics.Counter("points_skipped", "points left out because none of their fields could be written");
    }

    /// <summary>The encoded batch (valid until the next <see cref="Encode"/>).</summary>
    public ReadOnlyMemory<byte> Text => _text.WrittenMemory;

    /// <summary>Encodes the batch; returns the number of lines.</summary>
    public int Encode(IReadOnlyList<MetricPoint> batch)
    {
        _text.ResetWrittenCount();
        var stats = _encoder.Write(batch, _text);
        _fieldsSkipped.Add(stats.FieldsSkipped);
        _pointsSkipped.Add(stats.PointsSkipped);
        return stats.PointsWritten;
    }

    /// <summary>The body as UTF-8 text (one string per batch: InfluxDB.Client takes records as strings).</summary>
    public string AsString() => Encoding.UTF8.GetString(_text.WrittenSpan);

    /// <summary>The body as HTTP content, compressed (with <c>Content-Encoding: gzip</c>) when it has at least <paramref name="gzipThreshold"/> bytes.</summary>
    public HttpContent ToContent(int gzipThreshold)
    {
        HttpContent content;
        if (_text.WrittenCount >= gzipThreshold)
        {
            _compressed.SetLength(0);
            using (var gzip = new GZipStream(_compressed, CompressionLevel.Fastest, leaveOpen: true))
            {
                gzip.Write(_text.WrittenSpan);
            }

            content = new ByteArrayContent(_compressed.GetBuffer(), 0, (int)_compressed.Length);
            content.Headers.ContentEncoding.Add("gzip");
        }
        else
        {
            content = new ReadOnlyMemoryContent(_text.WrittenMemory);
        }

        content.Headers.ContentType = new MediaTypeHeaderValue("text/plain") { CharSet = "utf-8" };
        return content;
    }
}
