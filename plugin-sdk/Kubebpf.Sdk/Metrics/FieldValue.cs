using System.Globalization;

namespace Kubebpf.Sdk.Metrics;

/// <summary>The kinds of field value InfluxDB line protocol knows.</summary>
public enum FieldKind
{
    /// <summary>64-bit float.</summary>
    Float,
    /// <summary>Signed 64-bit integer (<c>i</c> suffix).</summary>
    Integer,
    /// <summary>Unsigned 64-bit integer (<c>u</c> suffix); InfluxDB 1.x stores these as integers.</summary>
    UInteger,
    /// <summary>String (quoted).</summary>
    String,
    /// <summary>Boolean.</summary>
    Boolean,
}

/// <summary>A typed field value without boxing.</summary>
public readonly struct FieldValue : IEquatable<FieldValue>
{
    private readonly long _bits;
    private readonly string? _text;

    private FieldValue(FieldKind kind, long bits, string? text)
    {
        Kind = kind;
        _bits = bits;
        _text = text;
    }

    /// <summary>Which member holds the value.</summary>
    public FieldKind Kind { get; }

    /// <summary>The value as a float; integers convert.</summary>
    public double AsDouble => Kind switch
    {
        FieldKind.Float => BitConverter.Int64BitsToDouble(_bits),
        FieldKind.UInteger => (ulong)_bits,
        _ => _bits,
    };

    /// <summary>The signed integer value (also the 0/1 of a boolean).</summary>
    public long AsLong => Kind == FieldKind.Float ? (long)BitConverter.Int64BitsToDouble(_bits) : _bits;

    /// <summary>The unsigned integer value.</summary>
    public ulong AsULong => (ulong)_bits;

    /// <summary>The string value, or the invariant text of any other kind.</summary>
    public string AsString => _text ?? ToString();

    /// <summary>The boolean value.</summary>
    public bool AsBool => _bits != 0;

    /// <summary>A float value.</summary>
    public static FieldValue Float(double value) => new(FieldKind.Float, BitConverter.DoubleToInt64Bits(value), null);

    /// <summary>A signed integer value.</summary>
    public static FieldValue Integer(long value) => new(FieldKind.Integer, value, null);

    /// <summary>An unsigned integer value.</summary>
    public static FieldValue UInteger(ulong value) => new(FieldKind.UInteger, (long)value, null);

    /// <summary>A string value.</summary>
    public static FieldValue String(string value) => new(FieldKind.String, 0, value ?? throw new ArgumentNullException(nameof(value)));

    /// <summary>A boolean value.</summary>
    public static FieldValue Boolean(bool value) => new(FieldKind.Boolean, value ? 1 : 0, null);

    /// <inheritdoc />
    public bool Equals(FieldValue other) => Kind == other.Kind && _bits == other._bits && _text == other._text;

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is FieldValue other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Kind, _bits, _text);

    /// <inheritdoc />
    public override string ToString() => Kind switch
    {
        FieldKind.Float => AsDouble.ToString("R", CultureInfo.InvariantCulture),
        FieldKind.Integer => _bits.ToString(CultureInfo.InvariantCulture),
        FieldKind.UInteger => ((ulong)_bits).ToString(CultureInfo.InvariantCulture),
        FieldKind.Boolean => _bits != 0 ? "true" : "false",
        _ => _text!,
    };

    /// <summary>Equality.</summary>
    public static bool operator ==(FieldValue left, FieldValue right) => left.Equals(right);

    /// <summary>Inequality.</summary>
    public static bool operator !=(FieldValue left, FieldValue right) => !left.Equals(right);
}
