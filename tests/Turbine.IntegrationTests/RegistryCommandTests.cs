using System.Diagnostics;
using System.Security.Cryptography;
using Turbine.Onnx.Tools;
using Turbine.Tests;

namespace Turbine.IntegrationTests;

/// <summary>
/// <c>turbine registry</c> as people and pipelines run it, and SECURITY.md F1 for it: a kill -9 during a push leaves
/// no half-registered version, and one during a pull leaves no half-written model folder.
/// </summary>
public sealed class RegistryCommandTests : IDisposable
{
    private readonly TestRepository _files = new();

    public void Dispose() => _files.Dispose();

    private string Registry => Path.Combine(_files.Root, "registry");

    [Fact]
    public async Task Push_alias_pull_and_history_work_from_the_shell_with_signatures()
    {
        var folder = AddModel();
        var (key, publicKey) = TestKeys.Write(_files.Root, "ci");

        var push = await Cli("registry", "push", folder, "--sign-key", key, "--signer", "ci", "--tag", "stage=dev", "--lineage", "source_run=run-9", "--actor", "alice");
        await Cli("registry", "push", folder, "--actor", "bob");
        await Cli("registry", "alias", "mlp", "champion", "1", "--reason", "first release", "--actor", "alice");
        await Cli("registry", "alias", "mlp", "champion", "2", "--reason", "better", "--actor", "bob");
        var list = await Cli("registry", "list", "mlp");
        var show = await Cli("registry", "show", "mlp", "1");
        var pulled = await Cli("registry", "pull", "mlp", "1", "--repository", Path.Combine(_files.Root, "serving"), "--trust", publicKey);
        var refused = await CliProcess.RunRawAsync("registry", "pull", "mlp", "champion", "--repository", Path.Combine(_files.Root, "serving"), "--trust", publicKey, "--registry", Registry);
        var verified = await Cli("registry", "verify", "mlp", "1", "--trust", publicKey);
        var history = await Cli("registry", "history", "mlp");

        Assert.Contains("registered mlp version 1: 2 files", push, StringComparison.Ordinal);
        Assert.Contains("signed by ci (", push, StringComparison.Ordinal);
        Assert.Matches(@"\n\s+2 .* unsigned +[0-9a-f]{16}  @champion", "\n" + list);
        Assert.Contains("\"source_run\": \"run-9\"", show, StringComparison.Ordinal);
        Assert.Contains("\"stage\": \"dev\"", show, StringComparison.Ordinal);
        Assert.Contains($"mlp version 1 -> {Path.Combine(_files.Root, "serving", "mlp", "1")}", pulled, StringComparison.Ordinal);
        Assert.True(refused.ExitCode == 2, refused.Output);
        Assert.Contains("error: mlp version 2 is not signed", refused.Output, StringComparison.Ordinal);
        Assert.Contains("2 files match their digests; signature by ci (", verified, StringComparison.Ordinal);
        Assert.Matches(@"alias-moved +@champion 1 -> 2 +bob +better", history);
    }

    [Fact]
    public async Task Kill_9_during_a_push_leaves_no_half_registered_version()
    {
        // The weights are a named pipe the test feeds: the push is killed with its stored copy half written, before
        // anything is registered.
        var folder = AddModel();
        var weights = Path.Combine(folder, "1", "weights.bin");
        MakeFifo(weights);
        var content = new byte[1 << 20];
        new Random(3).NextBytes(content);
        using (var push = Start("registry", "push", folder, "--registry", Registry))
        {
            await using var stored = await OpenFeedAsync(weights);
            await stored.WriteAsync(content.AsMemory(0, content.Length / 2));
            await stored.FlushAsync();
            await WaitForAsync(() => Directory.EnumerateFiles(Path.Combine(Registry, "artifacts"), "*.partial", SearchOption.AllDirectories).Any(f => new FileInfo(f).Length > 0), push);
            push.Kill(entireProcessTree: true);
            await push.WaitForExitAsync();
        }

        Assert.Equal(string.Empty, (await Cli("registry", "list")).Trim()); // neither the model nor a version was registered
        File.Delete(weights);
        File.WriteAllBytes(weights, content);
        var again = await Cli("registry", "push", folder);
        Assert.Contains("registered mlp version 1: 3 files", again, StringComparison.Ordinal);
        await Cli("registry", "verify", "mlp", "1");
    }

    [Fact]
    public async Task Kill_9_during_a_pull_leaves_no_half_written_model_folder()
    {
        var folder = AddModel();
        var content = new byte[1 << 20];
        new Random(3).NextBytes(content);
        File.WriteAllBytes(Path.Combine(folder, "1", "weights.bin"), content);
        await Cli("registry", "push", folder);

        // The stored weights become a named pipe the test feeds, so the pull is killed with its copy half written.
        var blob = Directory.EnumerateFiles(Path.Combine(Registry, "artifacts"), Convert.ToHexStringLower(SHA256.HashData(content)), SearchOption.AllDirectories).Single();
        File.Delete(blob);
        MakeFifo(blob);
        var serving = Path.Combine(_files.Root, "serving");
        var staging = Path.Combine(serving, ".registry-staging");
        using (var pull = Start("registry", "pull", "mlp", "1", "--repository", serving, "--registry", Registry))
        {
            await using var feed = await OpenFeedAsync(blob);
            await feed.WriteAsync(content.AsMemory(0, content.Length / 2));
            await feed.FlushAsync();
            await WaitForAsync(() => Directory.EnumerateFiles(staging, "weights.bin", SearchOption.AllDirectories).Any(f => new FileInfo(f).Length > 0), pull);
            pull.Kill(entireProcessTree: true);
            await pull.WaitForExitAsync();
        }

        Assert.False(Directory.Exists(Path.Combine(serving, "mlp", "1")));
        Assert.NotEmpty(Directory.EnumerateDirectories(staging)); // what the killed process left, outside the model folders

        File.Delete(blob);
        File.WriteAllBytes(blob, content);
        await Cli("registry", "pull", "mlp", "1", "--repository", serving);

        Assert.Empty(Directory.EnumerateDirectories(staging)); // cleared: its process is gone
        Assert.Equal(content, File.ReadAllBytes(Path.Combine(serving, "mlp", "1", "weights.bin")));
    }

    private static void MakeFifo(string path)
    {
        using var mkfifo = Process.Start(new ProcessStartInfo("mkfifo") { ArgumentList = { path } })!;
        mkfifo.WaitForExit();
        Assert.Equal(0, mkfifo.ExitCode);
    }

    /// <summary>Opens a named pipe for writing, which waits until the process under test opens it for reading.</summary>
    private static Task<FileStream> OpenFeedAsync(string fifo) =>
        Task.Run(() => new FileStream(fifo, FileMode.Open, FileAccess.Write, FileShare.ReadWrite, bufferSize: 1)).WaitAsync(TimeSpan.FromSeconds(60));

    private string AddModel()
    {
        _files.Add("mlp", SampleModels.Mlp(), """{ "max_batch_size": 8 }""");
        return Path.Combine(_files.Root, "mlp");
    }

    private Task<string> Cli(params string[] args) => CliProcess.RunAsync([.. args, "--registry", Registry]);

    private static Process Start(params string[] args) => CliProcess.Start(null, args);

    /// <summary>Waits for a condition on the file system the process under test creates, failing if it exits first.</summary>
    private static async Task WaitForAsync(Func<bool> condition, Process process)
    {
        var deadline = Stopwatch.StartNew();
        while (!condition())
        {
            if (process.HasExited)
            {
                Assert.Fail($"the process ended (exit {process.ExitCode}) before the moment to kill it: {await process.StandardError.ReadToEndAsync()}");
            }

            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(60), "the moment to kill never came");
            await Task.Delay(5);
        }
    }
}
