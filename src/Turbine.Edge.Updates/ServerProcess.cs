using System.Diagnostics;

namespace Turbine.Edge.Updates;

/// <summary>The server could not start or stopped before it was ready.</summary>
public sealed class ServerStartException(string message) : Exception(message);

/// <summary>
/// One run of the edge server from a slot, as a child of the agent. The server prints its address as its first line
/// once its models are loaded and it listens, so that line is the readiness signal (no polling). Its later output
/// goes to the agent's log; its last error lines are kept for the crash report.
/// </summary>
public sealed class ServerProcess : IAsyncDisposable
{
    private const string ReadyPrefix = "turbine-edge is serving";
    private readonly Process _process;
    private readonly Queue<string> _lastErrors;

    private ServerProcess(Process process, Uri address, Queue<string> lastErrors)
    {
        _process = process;
        _lastErrors = lastErrors;
        Address = address;
        Exited = process.WaitForExitAsync().ContinueWith(_ => process.ExitCode, TaskScheduler.Default);
    }

    /// <summary>Where it serves.</summary>
    public Uri Address { get; }

    /// <summary>The process id.</summary>
    public int Id => _process.Id;

    /// <summary>Completes with the exit code when the process ends.</summary>
    public Task<int> Exited { get; }

    /// <summary>Its last lines on standard error (a crash report's tail).</summary>
    public string LastErrors
    {
        get
        {
            lock (_lastErrors)
            {
                return string.Join('\n', _lastErrors);
            }
        }
    }

    /// <summary>Starts the server and waits for its ready line.</summary>
    public static async Task<ServerProcess> StartAsync(ProcessStartInfo start, TimeSpan readyTimeout, Action<string> log, CancellationToken cancellationToken)
    {
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.Environment.Remove(FaultPoints.Variable); // the agent's fault point is not the server's
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new ServerStartException($"{start.FileName} did not start");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new ServerStartException($"{start.FileName} cannot run: {e.Message}");
        }

        var errors = new Queue<string>();
        var errorPump = PumpAsync(process.StandardError, line => Remember(errors, line, log));
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(readyTimeout);
            while (await process.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
            {
                var at = line.LastIndexOf(" at ", StringComparison.Ordinal);
                if (line.StartsWith(ReadyPrefix, StringComparison.Ordinal) && at > 0 && Uri.TryCreate(line[(at + 4)..].Trim(), UriKind.Absolute, out var address))
                {
                    _ = PumpAsync(process.StandardOutput, log); // the error pump goes on filling the same queue
                    return new ServerProcess(process, address, errors);
                }

                log(line);
            }

            await process.WaitForExitAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(5), CancellationToken.None);
            await errorPump.WaitAsync(TimeSpan.FromSeconds(5), CancellationToken.None);
            throw new ServerStartException($"the server exited with {process.ExitCode} before it was ready: {string.Join(" | ", errors)}");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            Stop(process);
            throw new ServerStartException($"the server was not ready within {readyTimeout.TotalSeconds:F0} s");
        }
        catch (Exception e) when (e is not ServerStartException)
        {
            Stop(process);
            process.Dispose();
            throw;
        }
    }

    /// <summary>Asks the server to stop (SIGTERM), and kills it when it has not within <paramref name="grace"/>.</summary>
    public async Task StopAsync(TimeSpan grace)
    {
        if (_process.HasExited)
        {
            return;
        }

        Posix.Signal(_process.Id, Posix.SigTerm);
        try
        {
            await Exited.WaitAsync(grace);
        }
        catch (TimeoutException)
        {
            _process.Kill(entireProcessTree: true);
            await Exited;
        }
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await StopAsync(TimeSpan.FromSeconds(10));
        _process.Dispose();
    }

    private static void Stop(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // already gone
        }
    }

    private static void Remember(Queue<string> errors, string line, Action<string> log)
    {
        lock (errors)
        {
            errors.Enqueue(line);
            while (errors.Count > 20)
            {
                errors.Dequeue();
            }
        }

        log(line);
    }

    private static async Task PumpAsync(TextReader reader, Action<string> log)
    {
        try
        {
            while (await reader.ReadLineAsync() is { } line)
            {
                log(line);
            }
        }
        catch (IOException)
        {
            // the pipe closed with the process
        }
    }
}
