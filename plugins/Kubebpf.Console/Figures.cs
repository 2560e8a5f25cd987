using System.Globalization;

namespace Kubebpf.Console;

/// <summary>How numbers appear: about three significant digits, so small and large values both read well.</summary>
internal static class Figures
{
    public static string Number(double value) => value.ToString(
        Math.Abs(value) switch
        {
            < 10 => "0.00",
            < 100 => "0.0",
            _ => "0",
        },
        CultureInfo.InvariantCulture);

    public static string Percent(double value) => value.ToString("0.0", CultureInfo.InvariantCulture) + "%";

    public static string Time(long unixNs, TimeZoneInfo zone, string format) =>
        TimeZoneInfo.ConvertTime(DateTimeOffset.FromUnixTimeMilliseconds(unixNs / 1_000_000), zone)
            .ToString(format, CultureInfo.InvariantCulture);
}
