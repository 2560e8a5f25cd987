using Microsoft.Extensions.Configuration;

namespace Kubebpf.Agent;

/// <summary>Builds the agent's configuration: JSON file, then <c>KUBEBPF_</c> environment variables, then <c>--set</c> overrides.</summary>
internal static class AgentConfiguration
{
    public const string DefaultFileName = "kubebpf.json";

    public static IConfigurationRoot Build(string? configFile, IEnumerable<string> overrides)
    {
        var builder = new ConfigurationBuilder();
        if (configFile is null)
        {
            builder.AddJsonFile(Path.Combine(AppContext.BaseDirectory, DefaultFileName), optional: true);
        }
        else
        {
            var path = Path.GetFullPath(configFile);
            if (!File.Exists(path))
            {
                throw new ConfigurationException($"Configuration file '{path}' does not exist.");
            }

            builder.AddJsonFile(path, optional: false);
        }

        builder.AddEnvironmentVariables("KUBEBPF_");
        builder.AddInMemoryCollection(overrides.Select(ParseOverride));
        try
        {
            return builder.Build();
        }
        catch (Exception ex) when (ex is InvalidDataException or FormatException or System.Text.Json.JsonException)
        {
            throw new ConfigurationException($"Cannot read the configuration: {ConfigurationException.Reasons(ex)}");
        }
    }

    public static AgentOptions Options(IConfiguration configuration)
    {
        try
        {
            var options = configuration.GetSection(AgentOptions.SectionName).Get<AgentOptions>() ?? new AgentOptions();
            options.Validate();
            return options;
        }
        catch (InvalidOperationException ex)
        {
            throw new ConfigurationException($"Invalid '{AgentOptions.SectionName}' section: {ConfigurationException.Reasons(ex)}");
        }
    }

    private static KeyValuePair<string, string?> ParseOverride(string assignment)
    {
        var separator = assignment.IndexOf('=', StringComparison.Ordinal);
        if (separator <= 0)
        {
            throw new ConfigurationException($"--set expects KEY=VALUE (e.g. Agent:FlushInterval=00:00:05); got '{assignment}'.");
        }

        return new(assignment[..separator].Trim(), assignment[(separator + 1)..]);
    }
}
