using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Turbine.Bench;

/// <summary>
/// `turbine serve` as a child process, optionally pinned to one core (taskset, and .NET and ONNX Runtime told of one
/// processor), as a replica with a core of its own: the autoscaling check's fleet.
/// </summary>
internal sealed class ServerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _output = new();

    private ServerProcess(Process process, int httpPort, int grpcPort)
    {
        _process = process;
        HttpPort = httpPort;
        GrpcPort = grpcPort;
    }

    public int HttpPort { get; }

    public int GrpcPort { get; }

    public static async Task<ServerProcess> StartAsync(string repository, int? core)
    {
        var (http, grpc) = (FreePort(), FreePort());
        var start = new ProcessStartInfo(core is null ? "dotnet" : "taskset") { RedirectStandardOutput = true, RedirectStandardError = true };
        if (core is { } pinned)
        {
            start.ArgumentList.Add("-c");
            start.ArgumentList.Add(pinned.ToString(System.Globalization.CultureInfo.InvariantCulture));
            start.ArgumentList.Add("dotnet");
            start.Environment["DOTNET_PROCESSOR_COUNT"] = "1";
        }

        foreach (var argument in new[] { CliPath(), "serve", "-m", repository, "--host", "127.0.0.1", "--http-port", $"{http}", "--grpc-port", $"{grpc}", "--metrics-port", "-1", "--log-level", "Warning" })
        {
            start.ArgumentList.Add(argument);
        }

        return await LaunchAsync(start, http, grpc);
    }

    /// <summary>A published <c>turbine-edge</c> on the repository, with <paramref name="threads"/> compute threads.</summary>
    public static async Task<ServerProcess> StartEdgeAsync(string binary, string repository, int threads)
    {
        var http = FreePort();
        var start = new ProcessStartInfo(binary, ["-m", repository, "--http-port", $"{http}", "--threads", $"{threads}"]) { RedirectStandardOutput = true, RedirectStandardError = true };
        return await LaunchAsync(start, http, grpcPort: 0);
    }

    private static async Task<ServerProcess> LaunchAsync(ProcessStartInfo start, int httpPort, int grpcPort)
    {
        var process = Process.Start(start)!;
        var server = new ServerProcess(process, httpPort, grpcPort);
        process.OutputDataReceived += (_, line) => server.Keep(line.Data);
        process.ErrorDataReceived += (_, line) => server.Keep(line.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        await server.WaitReadyAsync();
        return server;
    }

    /// <summary>User plus system CPU time the process has used (/proc/PID/stat).</summary>
    public double CpuSeconds()
    {
        var fields = File.ReadAllText($"/proc/{_process.Id}/stat").Split(')')[1].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return (long.Parse(fields[11], System.Globalization.CultureInfo.InvariantCulture) + long.Parse(fields[12], System.Globalization.CultureInfo.InvariantCulture)) / 100.0; // USER_HZ
    }

    /// <summary>Resident memory and thread count now (/proc/PID/status).</summary>
    public (long RssBytes, int Threads) Footprint()
    {
        var status = File.ReadAllLines($"/proc/{_process.Id}/status");
        static long Field(string[] lines, string name) => long.Parse(lines.First(line => line.StartsWith(name, StringComparison.Ordinal))[name.Length..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
        return (Field(status, "VmRSS:") * 1024, (int)Field(status, "Threads:"));
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    private async Task WaitReadyAsync()
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(120))
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"turbine serve exited with {_process.ExitCode} before it was ready: {string.Join('\n', _output.TakeLast(10))}");
            }

            try
            {
                using var response = await http.GetAsync(new Uri($"http://127.0.0.1:{HttpPort}/v2/health/ready"));
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }

            await Task.Delay(100);
        }

        throw new TimeoutException("turbine serve was not ready within 120 s");
    }

    /// <summary>The CLI as its own project built it (beside its own runtimeconfig and deps), of the bench's configuration.</summary>
    private static string CliPath() =>
        Path.Combine(AppContext.BaseDirectory.Replace(Path.Combine("bench", "Turbine.Bench"), Path.Combine("src", "Turbine.Cli"), StringComparison.Ordinal), "turbine.dll");

    // The last lines only: a replica that fails says why in its last words.
    private void Keep(string? line)
    {
        if (line is not null)
        {
            _output.Enqueue(line);
            while (_output.Count > 50 && _output.TryDequeue(out _))
            {
            }
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
