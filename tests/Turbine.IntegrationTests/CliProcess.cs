using System.Diagnostics;

namespace Turbine.IntegrationTests;

/// <summary>Runs the built <c>turbine</c> command as a child process, as a user would.</summary>
internal static class CliProcess
{
    /// <summary>Runs the CLI and returns its output; a non-zero exit fails the test with that output.</summary>
    public static async Task<string> RunAsync(params string[] args)
    {
        var (exitCode, output) = await RunRawAsync(args);
        Assert.True(exitCode == 0, output);
        return output;
    }

    public static async Task<(int ExitCode, string Output)> RunRawAsync(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(CliPath());
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout + await stderr);
    }

    /// <summary>The CLI as built by its own project (next to its runtimeconfig), found from this test's output folder.</summary>
    public static string CliPath()
    {
        var testBin = AppContext.BaseDirectory;
        var marker = Path.Combine("tests", "Turbine.IntegrationTests");
        var cliBin = testBin.Replace(marker, Path.Combine("src", "Turbine.Cli"), StringComparison.Ordinal);
        return Path.Combine(cliBin, "turbine.dll");
    }
}
