namespace Turbine.Cli.Bench;

/// <summary>Live progress on stderr: one line rewritten in place on a terminal, plain lines when redirected.</summary>
internal sealed class ProgressLine(TextWriter output, bool interactive)
{
    private int _width;

    public static ProgressLine ForConsole() => new(Console.Error, !Console.IsErrorRedirected);

    public void Update(string text)
    {
        if (!interactive)
        {
            output.WriteLine(text);
            return;
        }

        output.Write('\r' + text.PadRight(_width));
        _width = Math.Max(_width, text.Length);
    }

    public void Done(string text)
    {
        Update(text);
        if (interactive)
        {
            output.WriteLine();
            _width = 0;
        }
    }
}
