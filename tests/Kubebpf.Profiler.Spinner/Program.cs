using System.Globalization;
using System.Runtime.CompilerServices;

// Burns CPU in Spinner.SpinHot for the given seconds, prints "done", then waits for stdin to close.
var seconds = double.Parse(args.Length > 0 ? args[0] : "5", CultureInfo.InvariantCulture);
var until = DateTime.UtcNow.AddSeconds(seconds);
ulong sink = 0;
while (DateTime.UtcNow < until)
{
    sink += Spinner.SpinHot(2_000_000);
}

Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"done {sink % 10}"));
Console.Out.Flush();
Console.In.ReadToEnd();

internal static class Spinner
{
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static ulong SpinHot(int iterations)
    {
        var x = (ulong)iterations;
        for (var i = 0; i < iterations; i++)
        {
            x = (x * 6364136223846793005UL) + 1442695040888963407UL;
        }

        return x;
    }
}
