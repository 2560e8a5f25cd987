using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Kubebpf.Red;

/// <summary>Binds and validates <see cref="RedOptions"/>, so that a bad section fails at load with a message naming the key.</summary>
internal static class RedOptionsLoader
{
    /// <summary>The options in <paramref name="section"/>, defaults for what is absent.</summary>
    /// <exception cref="OptionsValidationException">A key is unknown, has the wrong type or is out of range.</exception>
    public static RedOptions Load(IConfiguration section, string instanceName)
    {
        var options = new RedOptions();
        try
        {
            section.Bind(options, binder => binder.ErrorOnUnknownConfiguration = true);
        }
        catch (InvalidOperationException ex)
        {
            throw Invalid(instanceName, [ex.Message]);
        }

        var errors = Validate(options);
        return errors.Count == 0 ? options : throw Invalid(instanceName, errors);
    }

    /// <summary>Every out-of-range value, as a sentence naming the key.</summary>
    public static IReadOnlyList<string> Validate(RedOptions options)
    {
        var errors = new List<string>();
        var seriesValid = options.MaxSeries is >= 1 and <= RedOptions.MaxSeriesLimit;
        if (!seriesValid)
        {
            errors.Add($"MaxSeries must be between 1 and {RedOptions.MaxSeriesLimit}, got {options.MaxSeries}.");
        }

        // A workload cannot use more routes than there are series; compared only against a valid MaxSeries.
        var routesLimit = seriesValid ? options.MaxSeries : RedOptions.MaxSeriesLimit;
        if (options.MaxRoutesPerWorkload < 1 || options.MaxRoutesPerWorkload > routesLimit)
        {
            errors.Add($"MaxRoutesPerWorkload must be between 1 and MaxSeries ({routesLimit}), got {options.MaxRoutesPerWorkload}.");
        }

        return errors;
    }

    private static OptionsValidationException Invalid(string instanceName, IReadOnlyList<string> errors) =>
        new(instanceName, typeof(RedOptions), errors.Select(e => $"Plugin '{instanceName}': {e}"));
}
