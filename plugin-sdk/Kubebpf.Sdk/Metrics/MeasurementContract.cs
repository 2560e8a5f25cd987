namespace Kubebpf.Sdk.Metrics;

/// <summary>A tag a measurement may carry. Tags with an empty value are omitted, so every tag is optional.</summary>
/// <param name="Key">The tag key.</param>
/// <param name="Description">What the value is.</param>
public sealed record TagContract(string Key, string Description);

/// <summary>A field a measurement may carry.</summary>
/// <param name="Key">The field key.</param>
/// <param name="Kind">The line-protocol type every value of the field has.</param>
/// <param name="Unit">The unit (<c>ns</c>, <c>ms</c>, <c>bytes</c>, <c>1/s</c>, <c>ratio</c>), or empty for text and counts.</param>
/// <param name="Description">What the value is.</param>
/// <param name="Required">Whether every point has it; optional fields are omitted when unknown or not configured.</param>
public sealed record FieldContract(string Key, FieldKind Kind, string Unit, string Description, bool Required = true);

/// <summary>
/// The declared shape of one measurement a plugin emits: documentation users can read (and the README mirrors)
/// and a check that emitted points keep to it. Register a plugin's contracts in its container
/// (<c>services.AddSingleton(contract)</c>) and <c>kubebpf plugins</c> lists them.
/// </summary>
/// <param name="Name">The measurement name.</param>
/// <param name="Description">What one point means.</param>
/// <param name="Tags">Every tag a point may have.</param>
/// <param name="Fields">Every field a point may have.</param>
public sealed record MeasurementContract(
    string Name,
    string Description,
    IReadOnlyList<TagContract> Tags,
    IReadOnlyList<FieldContract> Fields)
{
    /// <summary>
    /// Every way <paramref name="point"/> breaks the contract: another measurement, an undeclared or empty tag,
    /// an undeclared field, a field of another kind, a missing required field. Empty when it conforms.
    /// </summary>
    public IReadOnlyList<string> Violations(MetricPoint point)
    {
        ArgumentNullException.ThrowIfNull(point);
        var violations = new List<string>();
        if (point.Measurement != Name)
        {
            violations.Add($"measurement '{point.Measurement}' is not '{Name}'");
        }

        foreach (var tag in point.Tags)
        {
            if (!Tags.Any(t => t.Key == tag.Key))
            {
                violations.Add($"tag '{tag.Key}' is not declared");
            }
            else if (tag.Value.Length == 0)
            {
                violations.Add($"tag '{tag.Key}' is empty (empty tags must be omitted)");
            }
        }

        foreach (var field in point.Fields)
        {
            var declared = Fields.FirstOrDefault(f => f.Key == field.Key);
            if (declared is null)
            {
                violations.Add($"field '{field.Key}' is not declared");
            }
            else if (declared.Kind != field.Value.Kind)
            {
                violations.Add($"field '{field.Key}' is {field.Value.Kind}, declared {declared.Kind}");
            }
        }

        foreach (var required in Fields.Where(f => f.Required))
        {
            if (point.Field(required.Key) is null)
            {
                violations.Add($"required field '{required.Key}' is missing");
            }
        }

        return violations;
    }
}
