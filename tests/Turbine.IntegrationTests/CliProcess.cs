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

    public static Task<(int ExitCode, string Output)> RunRawAsync(params string[] args) => RunRawAsync(new Dictionary<string, string>(), args);

    /// <summary>Runs the CLI with extra environment variables (credentials, say).</summary>
    public static async Task<(int ExitCode, string Output)> RunRawAsync(IReadOnlyDictionary<string, string> environment, string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

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

    /// <summary>Starts the CLI as a child process with its output redirected, for a test that waits on it, kills it or runs several.</summary>
    public static Process Start(IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        start.ArgumentList.Add(CliPath());
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        return Process.Start(start)!;
    }

    /// <summary>
    /// Starts <c>turbine serve</c> as a child process on free ports and returns once <paramref name="readyLine"/>
    /// appears in its output; <see cref="ServeProcess.Output"/> keeps everything it printed.
    /// </summary>
    public static Task<ServeProcess> ServeAsync(string readyLine, params string[] args) => ServeAsync(readyLine, new Dictionary<string, string>(), args);

    /// <inheritdoc cref="ServeAsync(string, string[])"/>
    /// <param name="readyLine">The line that says the server is up.</param>
    /// <param name="environment">Variables the child gets besides this process's (<c>Turbine__PinnedPoolIdle</c>, ...).</param>
    /// <param name="args">The arguments after <c>serve</c>.</param>
    public static Task<ServeProcess> ServeAsync(string readyLine, IReadOnlyDictionary<string, string> environment, params string[] args) =>
        ServeFromAsync(CliPath(), null, readyLine, environment, args);

    /// <summary>Starts <c>serve</c> from another build of the CLI (a published one) in a working folder of the caller's.</summary>
    public static async Task<ServeProcess> ServeFromAsync(string cli, string? workingDirectory, string readyLine, IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = workingDirectory ?? string.Empty };
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        foreach (var argument in new[] { cli, "serve", "--host", "127.0.0.1", "--http-port", "0", "--grpc-port", "0", "--metrics-port", "-1" }.Concat(args))
        {
            start.ArgumentList.Add(argument);
        }

        var serve = new ServeProcess(Process.Start(start)!);
        await serve.WaitForLineAsync(readyLine).WaitAsync(TimeSpan.FromSeconds(60));
        return serve;
    }

    /// <summary>The checkout the tests run from (the folder holding Turbine.slnx).</summary>
    public static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Turbine.slnx")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("the tests run outside the repository");
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

/// <summary>A running <c>turbine serve</c> child process and what it printed.</summary>
internal sealed class ServeProcess(Process process) : IDisposable
{
    private readonly System.Text.StringBuilder _output = new();
    private readonly List<(string Text, TaskCompletionSource Seen)> _waiting = [];
    private bool _reading;

    public Process Process { get; } = process;

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>The REST port, read from the "KServe v2 REST" line (start with that line as the ready line to read it).</summary>
    public int HttpPort
    {
        get
        {
            var line = Output.Split('\n').First(l => l.Contains("KServe v2 REST", StringComparison.Ordinal));
            var address = new Uri(line[line.IndexOf("http", StringComparison.Ordinal)..].Trim());
            return address.Port;
        }
    }

    /// <summary>The gRPC port, read from the "gRPC" line (start with that line as the ready line to read it).</summary>
    public int GrpcPort
    {
        get
        {
            var line = Output.Split('\n').First(l => l.TrimStart().StartsWith("gRPC ", StringComparison.Ordinal));
            return int.Parse(line[(line.LastIndexOf(':') + 1)..].Trim(), System.Globalization.CultureInfo.InvariantCulture);
        }
    }

    /// <summary>Resident memory of the process, from /proc.</summary>
    public long ResidentBytes()
    {
        var line = File.ReadLines($"/proc/{Process.Id}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) * 1024;
    }

    public Task WaitForLineAsync(string text)
    {
        var seen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_output)
        {
            if (_output.ToString().Contains(text, StringComparison.Ordinal))
            {
                return Task.CompletedTask;
            }

            _waiting.Add((text, seen));
            if (!_reading)
            {
                _reading = true;
                Process.OutputDataReceived += OnLine;
                Process.BeginOutputReadLine();
            }
        }

        return seen.Task;
    }

    public void Dispose()
    {
        if (!Process.HasExited)
        {
            Process.Kill();
            Process.WaitForExit();
        }

        Process.Dispose();
    }

    private void OnLine(object sender, DataReceivedEventArgs line)
    {
        lock (_output)
        {
            _output.AppendLine(line.Data);
            foreach (var (text, seen) in _waiting.Where(w => line.Data?.Contains(w.Text, StringComparison.Ordinal) == true).ToList())
            {
                seen.TrySetResult();
                _waiting.RemoveAll(w => w.Seen == seen);
            }
        }
    }
}
