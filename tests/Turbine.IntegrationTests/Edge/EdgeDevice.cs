using System.Diagnostics;
using System.Net;
using System.Text.Json;
using System.Threading.Channels;
using Turbine.Edge.Updates;
using Turbine.Onnx.Tools;
using Turbine.Tests;

namespace Turbine.IntegrationTests.Edge;

/// <summary>
/// A simulated device for the update tests: an agent folder provisioned with the test repository's root and a factory
/// bundle (version 1 of the AddSub model "simple"), the update server, and the real agent process (the framework-
/// dependent <c>turbine-edge</c> build), whose log lines the tests wait on.
/// </summary>
internal sealed class EdgeDevice : IAsyncDisposable
{
    private readonly List<AgentRun> _runs = [];

    private readonly TestTufRepository? _repository;

    private EdgeDevice(string work, UpdateServer server, TestTufRepository? repository)
    {
        Work = work;
        _repository = repository;
        Server = server;
        Layout = new AgentLayout(Path.Combine(work, "device"));
    }

    /// <summary>The test's folder (bundles are made here, the device's folder is under it).</summary>
    public string Work { get; }

    public TestTufRepository Repository => _repository ?? throw new InvalidOperationException("this device's repository is the CLI's");

    public UpdateServer Server { get; }

    public AgentLayout Layout { get; }

    public AgentState State => AgentState.Load(Layout.State);

    public static async Task<EdgeDevice> ProvisionAsync()
    {
        var repository = new TestTufRepository();
        var device = new EdgeDevice(repository.Root, await UpdateServer.StartAsync(repository.ServedFolder), repository);
        var factory = device.MakeBundle(1);
        UpdateAgent.Provision(device.Layout, repository.TrustedRoot, factory, new BundleLimits());
        return device;
    }

    /// <summary>A device, not yet provisioned, for a repository the test made in <paramref name="work"/>/repository.</summary>
    public static async Task<EdgeDevice> ForRepositoryAsync(string work) =>
        new(work, await UpdateServer.StartAsync(Path.Combine(work, "repository")), repository: null);

    /// <summary>
    /// A bundle of version <paramref name="version"/>: "simple" at model version <paramref name="version"/>, a golden case
    /// (expecting <paramref name="golden"/> as OUTPUT0), 256 KiB of padding so downloads take more than one read, and
    /// optionally a server build.
    /// </summary>
    public string MakeBundle(long version, int[]? golden = null, string? serverScript = null)
    {
        var work = Path.Combine(Work, $"bundle-{version}-{Guid.NewGuid():N}");
        using var models = new TestRepository().Add("simple", SampleModels.AddSub(DataType.Int32, 4), """{ "max_batch_size": 8 }""", version: (int)version);
        File.WriteAllBytes(Path.Combine(models.Root, "simple", "padding.bin"), System.Security.Cryptography.RandomNumberGenerator.GetBytes(256 * 1024));
        var goldenFolder = Directory.CreateDirectory(Path.Combine(work, "golden")).FullName;
        var expected = JsonSerializer.Serialize(golden ?? [2, 3, 4, 5]);
        File.WriteAllText(Path.Combine(goldenFolder, "simple.jsonl"), "{\"request\": " + AddSubRequests.Json + ", \"expected\": {\"OUTPUT0\": " + expected + "}}\n");
        string? binary = null;
        if (serverScript is not null)
        {
            binary = Path.Combine(work, "turbine-edge");
            File.WriteAllText(binary, serverScript);
        }

        var output = Path.Combine(work, $"edge-{version}.tar.gz");
        Bundle.Write(output, version, models.Root, goldenFolder, binary);
        return output;
    }

    /// <summary>Signs a bundle into the repository as bundles/edge-VERSION.tar.gz.</summary>
    public void Publish(string bundle, long version) =>
        Repository.Publisher.AddTarget($"bundles/edge-{version}.tar.gz", bundle, JsonDocument.Parse($$"""{"version": {{version}}}""").RootElement);

    /// <summary>Runs <c>turbine-edge ARGS</c> to its end (provision, status, rollback).</summary>
    public static async Task<string> RunEdgeAsync(params string[] args)
    {
        var (code, output, errors) = await ChildProcess.RunAsync(AgentProgram(), args);
        Assert.True(code == 0, output + errors);
        return output;
    }

    /// <summary>Starts the agent (optionally armed to kill itself at <paramref name="fault"/>).</summary>
    public AgentRun Start(string? fault = null, string checkInterval = "1s", string probation = "0s", string? telemetryUrl = null, string? program = null)
    {
        var start = new ProcessStartInfo(program ?? AgentProgram())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in new[]
        {
            "agent", "run", "--root", Layout.Root, "--metadata-url", Server.MetadataUrl.ToString(), "--targets-url", Server.TargetsUrl.ToString(),
            "--check-interval", checkInterval, "--http-port", "0", "--probation", probation, "--threads", "1", "--device-id", "test-device",
            "--telemetry-interval", telemetryUrl is null ? "1h" : "500ms",
        })
        {
            start.ArgumentList.Add(argument);
        }

        if (Posix.IsRoot)
        {
            start.ArgumentList.Add("--allow-root"); // CI containers run as root; the refusal itself is tested on its own
        }

        if (telemetryUrl is not null)
        {
            start.ArgumentList.Add("--telemetry-url");
            start.ArgumentList.Add(telemetryUrl);
        }

        if (fault is not null)
        {
            start.Environment[FaultPoints.Variable] = fault;
        }

        var run = new AgentRun(Process.Start(start)!);
        _runs.Add(run);
        return run;
    }

    /// <summary>Infers on the address the agent's last "serves at" line gave; returns the model version that answered.</summary>
    public static async Task<string> InferAsync(Uri address)
    {
        using var http = new HttpClient { BaseAddress = address };
        using var response = await http.PostAsync("v2/models/simple/infer", AddSubRequests.Content());
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        using var json = JsonDocument.Parse(body);
        Assert.Equal("[2,3,4,5]", json.RootElement.GetProperty("outputs")[0].GetProperty("data").GetRawText());
        return json.RootElement.GetProperty("model_version").GetString()!;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var run in _runs)
        {
            await run.DisposeAsync();
        }

        // A killed agent's server is stopped by the next run; after the last one, by the test.
        if (File.Exists(Layout.ServerPid) && int.TryParse(await File.ReadAllTextAsync(Layout.ServerPid), out var pid))
        {
            Posix.Signal(pid, Posix.SigKill);
        }

        await Server.DisposeAsync();
        Bundle.MakeWritable(Layout.Root);
        if (_repository is not null)
        {
            _repository.Dispose();
        }
        else
        {
            Directory.Delete(Work, recursive: true);
        }
    }

    private static string AgentProgram()
    {
        // The test's own configuration folder (Debug or Release) holds the framework-dependent build of src/Turbine.Edge.
        var configuration = new DirectoryInfo(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory)).Parent!.Name;
        var program = Path.Combine(CliProcess.RepositoryRoot(), "src", "Turbine.Edge", "bin", configuration, "net10.0", "turbine-edge");
        Assert.True(File.Exists(program), $"{program} is built with the solution");
        return program;
    }
}

/// <summary>One agent process and its log lines, which tests wait on by content.</summary>
internal sealed class AgentRun : IAsyncDisposable
{
    private readonly Process _process;
    private readonly Channel<string> _lines = Channel.CreateUnbounded<string>();
    private readonly List<string> _seen = [];
    private readonly Task _pumps;
    private int _cursor;

    public AgentRun(Process process)
    {
        _process = process;
        _pumps = Task.WhenAll(PumpAsync(process.StandardOutput), PumpAsync(process.StandardError)).ContinueWith(_ => _lines.Writer.TryComplete(), TaskScheduler.Default);
    }

    public string Log
    {
        get
        {
            lock (_seen)
            {
                return string.Join('\n', _seen);
            }
        }
    }

    /// <summary>
    /// Waits for a line containing <paramref name="text"/> after the line the previous wait matched: waits follow the
    /// log in order, so "slot a serves at" after a rollback is not the one before the update.
    /// </summary>
    public async Task<string> WaitForAsync(string text, int seconds = 60)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
        while (true)
        {
            lock (_seen)
            {
                for (var i = _cursor; i < _seen.Count; i++)
                {
                    if (_seen[i].Contains(text, StringComparison.Ordinal))
                    {
                        _cursor = i + 1;
                        return _seen[i];
                    }
                }
            }

            try
            {
                if (!await _lines.Reader.WaitToReadAsync(timeout.Token))
                {
                    break; // the agent exited
                }

                while (_lines.Reader.TryRead(out _))
                {
                }
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        Assert.Fail($"no line with '{text}' after line {_cursor} in:\n{Log}");
        return string.Empty;
    }

    /// <summary>The address in the last "serves at" line.</summary>
    public async Task<Uri> ServingAsync(string what)
    {
        var line = await WaitForAsync(what);
        return new Uri(line[(line.LastIndexOf(" serves at ", StringComparison.Ordinal) + " serves at ".Length)..].Trim());
    }

    public async Task<int> WaitForExitAsync(int seconds = 60)
    {
        await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(seconds));
        await _pumps.WaitAsync(TimeSpan.FromSeconds(10)); // the last lines are in the log before anyone reads it
        return _process.ExitCode;
    }

    /// <summary>Stops the agent as its service manager would (SIGTERM) and waits for it.</summary>
    public async Task<int> StopAsync()
    {
        if (!_process.HasExited)
        {
            Posix.Signal(_process.Id, Posix.SigTerm);
        }

        return await WaitForExitAsync(30);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            await StopAsync();
        }

        await _pumps;
        _process.Dispose();
    }

    private async Task PumpAsync(StreamReader reader)
    {
        while (await reader.ReadLineAsync() is { } line)
        {
            lock (_seen)
            {
                _seen.Add(line);
            }

            await _lines.Writer.WriteAsync(line); // a wake-up: waiters scan the log itself
        }
    }
}
