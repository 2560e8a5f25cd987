using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Kubebpf.Sdk.Pipeline;

/// <summary>Options that check their own values once bound.</summary>
public interface IValidatedOptions
{
    /// <summary>Every out-of-range or inconsistent value, each as a sentence naming its key; empty when all is well.</summary>
    IEnumerable<string> Validate();
}

/// <summary>The one way plugins read their configuration section: bound, unknown keys rejected, values validated, at load.</summary>
public static class PluginOptions
{
    /// <summary>
    /// Binds <paramref name="context"/>'s section onto a new <typeparamref name="T"/> (defaults for what is absent),
    /// rejecting keys <typeparamref name="T"/> does not have, then runs <see cref="IValidatedOptions.Validate"/>.
    /// </summary>
    /// <exception cref="OptionsValidationException">A key is unknown, a value has the wrong type or is invalid; the
    /// message names the instance and the key.</exception>
    public static T Load<T>(PluginContext context)
        where T : class, new()
    {
        ArgumentNullException.ThrowIfNull(context);
        var options = new T();
        try
        {
            context.Configuration.Bind(options, binder => binder.ErrorOnUnknownConfiguration = true);
        }
        catch (InvalidOperationException ex)
        {
            // Inside a list element the binder wraps the message that names the key in a generic one: both are kept.
            throw Invalid<T>(context.InstanceName, [ex.InnerException is InvalidOperationException inner ? $"{ex.Message} {inner.Message}" : ex.Message]);
        }

        var errors = options is IValidatedOptions validated ? validated.Validate().ToList() : [];
        return errors.Count == 0 ? options : throw Invalid<T>(context.InstanceName, errors);
    }

    private static OptionsValidationException Invalid<T>(string instanceName, IReadOnlyList<string> errors) =>
        new(instanceName, typeof(T), errors.Select(e => $"Plugin '{instanceName}': {e}"));
}
