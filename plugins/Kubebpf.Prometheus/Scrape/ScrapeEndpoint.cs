using System.Net;
using System.Text;
using Kubebpf.Prometheus.Exposition;
using Kubebpf.Prometheus.Metrics;
using Kubebpf.Sdk.Pipeline;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Kubebpf.Prometheus.Scrape;

/// <summary>
/// Serves <c>GET /metrics</c> on <see cref="PrometheusOptions.ListenAddress"/> (text 0.0.4, OpenMetrics, or the
/// protobuf format with native histograms, by the <c>Accept</c> header); anything else is 404. A counter or histogram
/// created since the previous scrape is answered at zero once, its counts from the next scrape on: Prometheus' range
/// functions see a series' increase only from its first sample, so a series first seen at N would lose those N. An
/// <see cref="IProbe"/> so that the host runs it on its own thread for the agent's lifetime and stops it at shutdown.
/// One request at a time: scrapes come every few seconds.
/// </summary>
internal sealed partial class ScrapeEndpoint : IProbe
{
    /// <summary>The scrape path.</summary>
    public const string Path = "/metrics";

    private readonly MetricCollector _collector;
    private readonly TimeProvider _time;
    private readonly ILogger<ScrapeEndpoint> _logger;
    private readonly (string Host, int Port) _listen;
    private readonly Counter _scrapes;
    private readonly Counter _failures;
    private long _previousScrape = long.MinValue;

    public ScrapeEndpoint(IOptions<PrometheusOptions> options, MetricCollector collector, IAgentMetrics metrics, TimeProvider time, ILogger<ScrapeEndpoint> logger)
    {
        _collector = collector;
        _time = time;
        _logger = logger;
        _listen = options.Value.ListenEndpoint() ?? throw new InvalidOperationException("The scrape endpoint is registered only with a ListenAddress.");
        _scrapes = metrics.Counter("scrapes", "A /metrics request answered.");
        _failures = metrics.Counter("scrape_failures", "A /metrics request that failed while being answered (the client went away, say).");
    }

    /// <summary>The URL prefix HttpListener listens on: any address for 0.0.0.0 and [::].</summary>
    public static string Prefix(string host, int port)
    {
        var any = host is "0.0.0.0" or "[::]" or "*" or "+";
        return $"http://{(any ? "*" : host)}:{port}/";
    }

    public async Task RunAsync(CancellationToken stoppingToken)
    {
        using var listener = new HttpListener();
        listener.Prefixes.Add(Prefix(_listen.Host, _listen.Port));
        listener.Start();
        LogListening(_listen.Host, _listen.Port);
        await using var stop = stoppingToken.Register(listener.Stop);
        while (!stoppingToken.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await listener.GetContextAsync();
            }
            catch (Exception) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (HttpListenerException ex)
            {
                _failures.Increment();
                LogRequestFailed(ex.Message);
                continue;
            }

            await AnswerAsync(context);
        }
    }

    private async Task AnswerAsync(HttpListenerContext context)
    {
        var response = context.Response;
        try
        {
            if (context.Request.HttpMethod is not ("GET" or "HEAD") || context.Request.Url?.AbsolutePath != Path)
            {
                response.StatusCode = (int)HttpStatusCode.NotFound;
                return;
            }

            var format = ExpositionFormats.Negotiate(context.Request.Headers["Accept"]);
            // A HEAD answer carries no samples, so it must not use up a new series' zero (see Render).
            var isGet = context.Request.HttpMethod == "GET";
            var body = Render(format, isGet);
            response.ContentType = ExpositionFormats.ContentType(format);
            response.ContentLength64 = body.Length;
            if (isGet)
            {
                await response.OutputStream.WriteAsync(body);
            }

            _scrapes.Increment();
        }
        catch (Exception ex) when (ex is HttpListenerException or IOException or ObjectDisposedException)
        {
            _failures.Increment();
            LogRequestFailed(ex.Message);
        }
        finally
        {
            try
            {
                response.Close();
            }
            catch (Exception ex) when (ex is HttpListenerException or IOException or ObjectDisposedException)
            {
                // the client went away; counted above when it mattered
            }
        }
    }

    /// <summary>
    /// The answer's bytes in <paramref name="format"/>, series new since the previous scrape at zero. Only a
    /// <paramref name="delivered"/> answer (a GET's) becomes the previous scrape: the zero reaches a reader.
    /// </summary>
    internal byte[] Render(ExpositionFormat format, bool delivered = true)
    {
        var scrapedAt = _time.GetTimestamp();
        var families = FirstSeenAsZero(_collector.Collect(), _previousScrape);
        if (delivered)
        {
            _previousScrape = scrapedAt;
        }

        if (format == ExpositionFormat.Protobuf)
        {
            var output = new ProtoWriter();
            ProtobufExposition.Write(output, families);
            return output.Written.ToArray();
        }

        var text = new StringBuilder();
        TextExposition.Write(text, families, format == ExpositionFormat.OpenMetrics);
        return Encoding.UTF8.GetBytes(text.ToString());
    }

    /// <summary>The families with every counter and histogram created after <paramref name="previousScrape"/> at zero.</summary>
    private static List<FamilySample> FirstSeenAsZero(List<FamilySample> families, long previousScrape)
    {
        foreach (var (family, series) in families)
        {
            if (family.Kind == MetricKind.Gauge)
            {
                continue;
            }

            for (var i = 0; i < series.Count; i++)
            {
                if (series[i].Origin.IsAfter(previousScrape))
                {
                    series[i] = series[i].AsZero();
                }
            }
        }

        return families;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Prometheus scrape endpoint listening on {Host}:{Port}" + Path)]
    private partial void LogListening(string host, int port);

    [LoggerMessage(Level = LogLevel.Debug, Message = "A /metrics request failed: {Reason}")]
    private partial void LogRequestFailed(string reason);
}
