using Spectre.Console;

namespace Kubebpf.Console;

/// <summary>Creates the <see cref="IAnsiConsole"/> the sink renders to.</summary>
public static class ConsoleOutput
{
    /// <summary>Width used when the output is not a terminal and none is configured: wide enough for the table.</summary>
    public const int RedirectedWidth = 160;

    /// <summary>
    /// A console over <paramref name="writer"/>. On a terminal, colours and cursor control follow what the terminal
    /// supports; otherwise (a file, a pipe, CI) the output is plain text: no ANSI sequences, ASCII borders.
    /// </summary>
    public static IAnsiConsole Create(TextWriter writer, bool isTerminal, int width = 0)
    {
        ArgumentNullException.ThrowIfNull(writer);
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = isTerminal ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = isTerminal ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = isTerminal ? InteractionSupport.Detect : InteractionSupport.No,
            Out = new AnsiConsoleOutput(writer),
        });
        if (!isTerminal)
        {
            console.Profile.Capabilities.Unicode = false;
        }

        if (width > 0 || !isTerminal)
        {
            console.Profile.Width = width > 0 ? width : RedirectedWidth;
        }

        return console;
    }

    /// <summary>A console over the process's standard output, plain when it is redirected.</summary>
    public static IAnsiConsole CreateForStandardOutput(int width = 0) =>
        Create(System.Console.Out, !System.Console.IsOutputRedirected, width);
}
