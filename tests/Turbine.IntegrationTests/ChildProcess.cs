using System.Diagnostics;

namespace Turbine.IntegrationTests;

/// <summary>A tool the tests run (kubectl, node, promtool): an argument list, never a shell; optional standard input; both outputs captured.</summary>
internal static class ChildProcess
{
    public static async Task<(int ExitCode, string Output, string Errors)> RunAsync(string program, IEnumerable<string> args, string? input = null, string? workingDirectory = null)
    {
        var start = new ProcessStartInfo(program, args) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = input is not null };
        start.WorkingDirectory = workingDirectory ?? string.Empty;
        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException($"{program} is missing: .ci/run installs it", e);
        }

        using (process)
        {
            var output = process.StandardOutput.ReadToEndAsync();
            var errors = process.StandardError.ReadToEndAsync();
            if (input is not null)
            {
                await process.StandardInput.WriteAsync(input);
                process.StandardInput.Close();
            }

            await process.WaitForExitAsync();
            return (process.ExitCode, await output, await errors);
        }
    }

    /// <summary>tests/tools/k8s-validate.mjs over <paramref name="yaml"/>: Kubernetes objects checked against their published schemas.</summary>
    public static Task<(int ExitCode, string Output, string Errors)> ValidateKubernetesAsync(string yaml, params string[] options)
    {
        var tools = Path.Combine(CliProcess.RepositoryRoot(), "tests", "tools");
        return RunAsync("node", [Path.Combine(tools, "k8s-validate.mjs"), .. options], yaml, tools);
    }
}
