using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace Kubebpf.Benchmarks;

/// <summary>Adds a MB/s column: the head size of the benchmark divided by its mean time per operation.</summary>
public sealed class ThroughputConfig : ManualConfig
{
    public ThroughputConfig() => AddColumn(new ThroughputColumn());

    private sealed class ThroughputColumn : IColumn
    {
        public string Id => nameof(ThroughputColumn);
        public string ColumnName => "MB/s";
        public bool AlwaysShow => true;
        public ColumnCategory Category => ColumnCategory.Custom;
        public int PriorityInCategory => 0;
        public bool IsNumeric => true;
        public UnitType UnitType => UnitType.Dimensionless;
        public string Legend => "Head bytes parsed per second (1 MB = 10^6 bytes)";

        public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

        public bool IsAvailable(Summary summary) => true;

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
        {
            var meanNs = summary[benchmarkCase]?.ResultStatistics?.Mean;
            var bytes = BytesPerOperation(benchmarkCase.Descriptor.WorkloadMethod.Name);
            return meanNs is > 0 && bytes > 0 ? (bytes / meanNs.Value * 1000).ToString("N0", System.Globalization.CultureInfo.InvariantCulture) : "-";
        }

        private static int BytesPerOperation(string method) => method switch
        {
            nameof(HeadParserBenchmarks.ParseRequest) => HeadParserBenchmarks.Request.Length,
            nameof(HeadParserBenchmarks.ParseResponse) => HeadParserBenchmarks.Response.Length,
            nameof(TrackerBenchmarks.RequestResponsePair) => HeadParserBenchmarks.Request.Length + HeadParserBenchmarks.Response.Length,
            _ => 0,
        };
    }
}
