using System.Net;
using System.Text;
using Kubebpf.Sdk.Metrics;
using Kubebpf.Testing;

namespace Kubebpf.InfluxDb.Tests;

/// <summary>Batches the server refuses whole are split in halves until only the points it refuses on their own are left.</summary>
public sealed class InfluxDbV1SplitTests
{
    private readonly TestAgentMetrics _metrics = new();
    private readonly List<string[]> _requests = [];

    [Fact]
    public async Task A_413_splits_the_batch_until_each_part_fits_and_every_point_is_written_once()
    {
        // A server whose max-body-size admits 3 lines.
        using var sink = Sink(lines => lines.Length > 3 ? (HttpStatusCode.RequestEntityTooLarge, "{\"error\":\"Request Entity Too Large\"}") : (HttpStatusCode.NoContent, ""));

        await sink.WriteAsync([.. Points(10)], CancellationToken.None);

        var accepted = _requests.Where(r => r.Length <= 3).SelectMany(r => r).ToList();
        Assert.Equal(Enumerable.Range(0, 10).Select(i => $"seq={i}i"), accepted.Select(SeqField));
        Assert.Equal(0, _metrics.Value("points_rejected"));
        // 10 -> 5 + 5 -> (2 + 3) + (2 + 3): three refused requests, three splits.
        Assert.Equal(3, _metrics.Value("batches_split"));
        Assert.Equal(7, _requests.Count);
    }

    [Fact]
    public async Task A_single_point_too_large_for_the_server_is_rejected_and_counted()
    {
        using var sink = Sink(lines => lines.Any(l => l.StartsWith("huge", StringComparison.Ordinal)) ? (HttpStatusCode.RequestEntityTooLarge, "too large") : (HttpStatusCode.NoContent, ""));

        await sink.WriteAsync([.. Points(3), TestSinks.Point("huge", 99, 99)], CancellationToken.None);

        Assert.Equal(1, _metrics.Value("points_rejected"));
        Assert.Equal(3, _requests.Where(r => !r.Any(l => l.StartsWith("huge", StringComparison.Ordinal))).Sum(r => r.Length));
    }

    [Fact]
    public async Task A_poison_point_refused_without_naming_it_is_isolated_by_halving_and_only_it_is_dropped()
    {
        // A proxy or server version that refuses the whole batch for one bad point, without saying which.
        using var sink = Sink(lines => lines.Any(l => l.StartsWith("poison", StringComparison.Ordinal)) ? (HttpStatusCode.BadRequest, "{\"error\":\"bad request\"}") : (HttpStatusCode.NoContent, ""));
        var batch = Points(16).ToList();
        batch.Insert(5, TestSinks.Point("poison", 5, -1));

        await sink.WriteAsync(batch, CancellationToken.None);

        var written = _requests.Where(r => !r.Any(l => l.StartsWith("poison", StringComparison.Ordinal))).SelectMany(r => r).ToList();
        Assert.Equal(16, written.Count);
        Assert.Equal(16, written.Distinct().Count());
        Assert.Equal(1, _metrics.Value("points_rejected"));
        Assert.True(_metrics.Value("batches_split") <= 5, $"{_metrics.Value("batches_split")} splits to find one point in 17: bisection needs at most 5");
    }

    [Fact]
    public async Task A_400_that_names_its_rejected_points_is_not_split_the_server_wrote_the_others()
    {
        using var sink = Sink(_ => (HttpStatusCode.BadRequest, "{\"error\":\"partial write: field type conflict: input field \\\"seq\\\" is type float, already exists as type integer dropped=1\"}"));

        await sink.WriteAsync([.. Points(8)], CancellationToken.None);

        Assert.Single(_requests);
        Assert.Equal(0, _metrics.Value("batches_split"));
        Assert.Equal(1, _metrics.Value("points_rejected"));
    }

    private static IEnumerable<MetricPoint> Points(int count) => Enumerable.Range(0, count).Select(i => TestSinks.Point("split", i, i));

    private static string SeqField(string line) => line.Split(' ')[1];

    private InfluxDbV1Sink Sink(Func<string[], (HttpStatusCode Status, string Body)> answer) =>
        TestSinks.V1("http://influx.example:8086", "db", _metrics, new LineHandler(lines =>
        {
            _requests.Add(lines);
            return answer(lines);
        }), o =>
        {
            o.CreateDatabase = false;
            o.GzipThresholdBytes = int.MaxValue;
        });

    private sealed class LineHandler(Func<string[], (HttpStatusCode Status, string Body)> answer) : HttpMessageHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var body = await request.Content!.ReadAsStringAsync(cancellationToken);
            var (status, text) = answer(body.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            return new HttpResponseMessage(status) { Content = new StringContent(text, Encoding.UTF8, "application/json") };
        }
    }
}
