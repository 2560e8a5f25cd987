using Kubebpf.Sdk.Metadata;

namespace Kubebpf.StaticMetadata.Tests;

public sealed class WorkloadFileParserTests
{
    [Fact]
    public void Yaml_entries_carry_every_identity_field_and_matcher()
    {
        var entries = WorkloadFileParser.Parse("w.yaml", Samples.Yaml);

        Assert.Equal(6, entries.Count);
        var api = entries[0];
        Assert.Equal(("shop", "api-7d9f6c5b8-x2k4p", "Deployment", "api", "api", "node-1"), Fields(api.Identity));
        Assert.Equal("backend", api.Identity.Labels["tier"]);
        Assert.Equal(["vethkb-api"], api.Interfaces);
        Assert.Equal(["10.213.0.12", "fd00:10:213::12"], api.Addresses.Select(a => a.ToString()));
        Assert.Empty(api.Ports);
        Assert.Equal(3, api.Line);
    }

    [Fact]
    public void Yaml_defaults_kind_to_pod_and_accepts_a_single_value_for_a_list()
    {
        var entries = WorkloadFileParser.Parse("w.yaml", Samples.Yaml);

        Assert.Equal(["vethkb-web"], entries[1].Interfaces);
        Assert.Equal(("StatefulSet", "web", "", ""), (entries[1].Identity.WorkloadKind, entries[1].Identity.WorkloadName, entries[1].Identity.Service, entries[1].Identity.Node));
        Assert.Equal(("Pod", "office"), (entries[4].Identity.WorkloadKind, entries[4].Identity.WorkloadName));
        Assert.Equal(["172.16.0.0/16", "2001:db8::/32"], entries[4].Addresses.Select(a => a.ToString()));
        Assert.Equal([(ushort)9100], entries[2].Ports);
    }

    [Fact]
    public void Json_reads_like_yaml_with_comments_and_trailing_commas()
    {
        var json = WorkloadFileParser.Parse("w.json", Samples.Json);
        var yaml = WorkloadFileParser.Parse("w.yaml", Samples.Yaml);

        Assert.Equal(2, json.Count);
        Assert.Equal(Fields(yaml[0].Identity), Fields(json[0].Identity));
        Assert.Equal(yaml[0].Identity.Labels, json[0].Identity.Labels);
        Assert.Equal(yaml[0].Addresses, json[0].Addresses);
        Assert.Equal(yaml[2].Ports, json[1].Ports);
        Assert.Equal(4, json[0].Line);
    }

    [Theory]
    [InlineData("w.yaml", "workloads:\n  - pod: a\n    ips: [10.0.0.1\n  - pod: b\n", 3, "invalid YAML near here: the structure is incomplete")]
    [InlineData("w.yaml", "workloads:\n  - pod: a\n    ips: [10.0.0.300]\n", 3, "workloads[0].ips[0]: '10.0.0.300' is not an IP address or CIDR block")]
    [InlineData("w.yaml", "workloads:\n  - pod: a\n    ips: [10.0.0.1/33]\n", 3, "'10.0.0.1/33' is not an IP address or CIDR block")]
    [InlineData("w.yaml", "workloads:\n  - pod: a\n    ip: 10.0.0.1\n", 3, "workloads[0]: unknown key 'ip' (expected one of: namespace, pod, workload")]
    [InlineData("w.yaml", "workloads:\n  - pod: a\n    ips: [10.0.0.1]\n    ports: [80, 70000]\n", 4, "workloads[0].ports[1]: '70000' is not a port (1-65535)")]
    [InlineData("w.yaml", "workloads:\n  - pod: a\n    interfaces: [this-name-is-far-too-long]\n", 3, "is not a network interface name")]
    [InlineData("w.yaml", "workloads:\n  - pod: a\n  - namespace: x\n    ips: [10.0.0.2]\n", 2, "workloads[0] (default/a) has neither 'interfaces' nor 'ips'")]
    [InlineData("w.yaml", "workloads:\n  - namespace: x\n    ips: [10.0.0.2]\n", 2, "workloads[0]: 'pod' is required")]
    [InlineData("w.yaml", "workloads:\n  - pod: a\n    pod: b\n", 3, "Duplicate key pod")]
    [InlineData("w.yaml", "workloads: {}\n", 1, "'workloads' must be a list")]
    [InlineData("w.yaml", "# nothing here\n", 0, "the file is empty")]
    [InlineData("w.json", "{\n  \"workloads\": [\n    { \"pod\": \"a\", \"ips\": [\"10.0.0.1\"] }\n    { \"pod\": \"b\" }\n  ]\n}\n", 4, "invalid JSON")]
    [InlineData("w.json", "{\n  \"workloads\": [\n    {\n      \"pod\": \"a\",\n      \"ips\": [\"nope\"]\n    }\n  ]\n}\n", 5, "'nope' is not an IP address")]
    [InlineData("w.json", "{ \"workload\": [] }", 1, "unknown key 'workload' (expected one of: workloads)")]
    public void Malformed_files_report_file_line_and_problem(string name, string content, int line, string problem)
    {
        var error = Assert.Throws<WorkloadFileException>(() => WorkloadFileParser.Parse(name, content));

        Assert.Equal(line, error.Line);
        Assert.Contains(problem, error.Message, StringComparison.Ordinal);
        Assert.StartsWith(line > 0 ? $"{name}:{line}: " : $"{name}: ", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Two_workloads_claiming_one_address_name_both_lines()
    {
        const string yaml = "workloads:\n  - pod: a\n    ips: [10.0.0.1]\n  - pod: b\n    ips: [10.0.0.1]\n";

        var error = Assert.Throws<WorkloadFileException>(() => WorkloadSnapshot.Build("w.yaml", WorkloadFileParser.Parse("w.yaml", yaml)));

        Assert.Equal("w.yaml:4: address 10.0.0.1 of default/b is already claimed by default/a (line 2)", error.Message);
    }

    [Fact]
    public void Two_workloads_claiming_one_interface_are_an_error()
    {
        const string yaml = "workloads:\n  - pod: a\n    interfaces: [veth1]\n  - pod: b\n    interfaces: [veth1]\n";

        var error = Assert.Throws<WorkloadFileException>(() => WorkloadSnapshot.Build("w.yaml", WorkloadFileParser.Parse("w.yaml", yaml)));

        Assert.Contains("interface veth1 of default/b is already claimed by default/a (line 2)", error.Message, StringComparison.Ordinal);
    }

    private static (string, string, string, string, string, string) Fields(WorkloadIdentity identity) =>
        (identity.Namespace, identity.Pod, identity.WorkloadKind, identity.WorkloadName, identity.Service, identity.Node);
}
