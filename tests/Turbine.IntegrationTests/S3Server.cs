using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Turbine.IntegrationTests;

/// <summary>
/// A real S3-compatible server for the tests: s3rver (npm, pinned in tests/tools/package.json; .ci/run installs it)
/// on a free loopback port with a fresh data folder and one bucket, killed and deleted after the test. Its keys are
/// s3rver's fixed ones.
/// </summary>
internal sealed class S3Server : IAsyncDisposable
{
    public const string Bucket = "turbine-artifacts";
    public const string AccessKey = "S3RVER";
    public const string SecretKey = "S3RVER";

    private readonly Process _process;
    private readonly string _data;

    private S3Server(Process process, string data, int port)
    {
        _process = process;
        _data = data;
        Endpoint = $"http://127.0.0.1:{port}";
    }

    public string Endpoint { get; }

    public static async Task<S3Server> StartAsync()
    {
        var script = Path.Combine(CliProcess.RepositoryRoot(), "tests", "tools", "node_modules", "s3rver", "bin", "s3rver.js");
        if (!File.Exists(script))
        {
            throw new InvalidOperationException("s3rver is not installed: npm ci --prefix tests/tools (.ci/run does)");
        }

        int port;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((IPEndPoint)probe.LocalEndpoint).Port;
        }

        var data = Path.Combine(Path.GetTempPath(), "turbine-s3-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(data);
        var start = new ProcessStartInfo("node") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { script, "-d", data, "-a", "127.0.0.1", "-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--configure-bucket", Bucket })
        {
            start.ArgumentList.Add(argument);
        }

        var process = Process.Start(start)!;
        var listening = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data?.Contains("listening", StringComparison.OrdinalIgnoreCase) == true)
            {
                listening.TrySetResult();
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        await listening.Task.WaitAsync(TimeSpan.FromSeconds(30));
        return new S3Server(process, data, port);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        Directory.Delete(_data, recursive: true);
    }
}
