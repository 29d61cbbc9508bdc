using System.Diagnostics;
using System.Text.RegularExpressions;
using Turbine.Client;
using Turbine.Onnx.Tools;
using Turbine.Tests;

namespace Turbine.IntegrationTests;

/// <summary>
/// The container images, as far as they can be checked without a Docker engine (none runs here): the Dockerfiles'
/// stages copy and build what exists and run as a non-root user with a health check, and the publish output they ship
/// starts from a clean folder with the images' settings, serves, and answers <c>turbine health</c>.
/// </summary>
public sealed class ContainerTests : IDisposable
{
    private readonly TestRepository _files = new();

    public void Dispose() => _files.Dispose();

    [Theory]
    [InlineData("deploy/docker/Dockerfile")]
    [InlineData("deploy/docker/Dockerfile.gpu")]
    public void A_dockerfile_copies_and_builds_what_exists_and_runs_unprivileged_with_a_health_check(string dockerfile)
    {
        var root = CliProcess.RepositoryRoot();
        var lines = File.ReadAllText(Path.Combine(root, dockerfile)).Replace("\\\n", " ", StringComparison.Ordinal).Split('\n')
            .Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')).ToList();
        var stages = lines.Where(l => l.StartsWith("FROM ", StringComparison.Ordinal)).Select(l => l.Split(' ')).Where(p => p.Length >= 4).Select(p => p[3]).ToList();

        foreach (var copy in lines.Where(l => l.StartsWith("COPY ", StringComparison.Ordinal)))
        {
            var parts = copy.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1..];
            if (parts[0].StartsWith("--from=", StringComparison.Ordinal))
            {
                Assert.Contains(parts[0]["--from=".Length..], stages.Concat(["mcr.microsoft.com/dotnet/aspnet:10.0"]));
                continue;
            }

            foreach (var source in parts[..^1])
            {
                Assert.True(File.Exists(Path.Combine(root, source)) || Directory.Exists(Path.Combine(root, source)), $"{dockerfile}: COPY source '{source}' does not exist");
            }
        }

        var publish = lines.Single(l => l.Contains("dotnet publish", StringComparison.Ordinal));
        var project = Regex.Match(publish, @"dotnet publish (\S+\.csproj)", RegexOptions.None, TimeSpan.FromSeconds(1)).Groups[1].Value;
        Assert.True(File.Exists(Path.Combine(root, project)), $"{dockerfile}: {project} does not exist");
        Assert.Contains("<AssemblyName>turbine</AssemblyName>", File.ReadAllText(Path.Combine(root, project)), StringComparison.Ordinal);
        Assert.Contains(lines, l => l == """ENTRYPOINT ["dotnet", "/app/turbine.dll", "serve"]""");
        var user = lines.Last(l => l.StartsWith("USER ", StringComparison.Ordinal))["USER ".Length..];
        Assert.DoesNotContain(user, new[] { "root", "0" });
        Assert.Contains(lines, l => l.StartsWith("HEALTHCHECK ", StringComparison.Ordinal) && l.Contains("\"health\"", StringComparison.Ordinal));
        Assert.Contains("EXPOSE 8000 8001 8002", lines);
        Assert.Contains(lines, l => l.Contains("TURBINE__MODELREPOSITORY=/models", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_published_server_starts_from_a_clean_folder_with_the_image_settings_and_passes_its_health_check()
    {
        var app = Path.Combine(_files.Root, "app");
        using (var publish = Process.Start(new ProcessStartInfo("dotnet")
        {
            ArgumentList = { "publish", Path.Combine(CliProcess.RepositoryRoot(), "src", "Turbine.Cli", "Turbine.Cli.csproj"), "-c", "Release", "-o", app, "--nologo", "-v", "quiet" },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!)
        {
            var output = publish.StandardOutput.ReadToEndAsync();
            await publish.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(5));
            Assert.True(publish.ExitCode == 0, await output);
        }

        _files.Add("simple", SampleModels.AddSub(DataType.Int32, 4), """{ "max_batch_size": 8 }""");
        var workingFolder = Directory.CreateDirectory(Path.Combine(_files.Root, "cwd")).FullName;
        var environment = new Dictionary<string, string>
        {
            ["TURBINE__MODELREPOSITORY"] = _files.Root,
            ["TURBINE__STATEDIRECTORY"] = Path.Combine(_files.Root, "state"),
            ["DOTNET_EnableDiagnostics"] = "0",
        };
        using var serve = await CliProcess.ServeFromAsync(Path.Combine(app, "turbine.dll"), workingFolder, "KServe v2 REST", environment);
        var url = $"http://127.0.0.1:{serve.HttpPort}";
        using var client = new TurbineHttpClient(new Uri(url));
        await WaitReadyAsync(client);

        using var request = AddSubRequests.Create("simple");
        using var response = await client.InferAsync(request);
        using var health = Process.Start(new ProcessStartInfo("dotnet") { ArgumentList = { Path.Combine(app, "turbine.dll"), "health", "--url", url }, RedirectStandardOutput = true })!;
        await health.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal("1", response.ModelVersion);
        Assert.Equal(0, health.ExitCode);
        Assert.Empty(Directory.EnumerateFileSystemEntries(workingFolder)); // nothing written where it runs: a read-only root is fine
    }

    private static async Task WaitReadyAsync(TurbineHttpClient client)
    {
        for (var attempt = 0; attempt < 600 && !await client.IsModelReadyAsync("simple"); attempt++)
        {
            await Task.Delay(50);
        }
    }
}
