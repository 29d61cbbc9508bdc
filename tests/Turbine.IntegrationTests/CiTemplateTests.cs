using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Turbine.Client;
using Turbine.Onnx.Tools;
using Turbine.Registry;
using Turbine.Server.Registry;
using Turbine.Tests;
using YamlDotNet.RepresentationModel;

namespace Turbine.IntegrationTests;

/// <summary>
/// deploy/ci/github-actions.yml read as GitHub Actions reads it and its <c>run</c> steps executed in order with bash,
/// as a runner would, against a real server that follows the registry and serves the route: the pushed model ends
/// up validated, scanned, registered with its signature and lineage, rolled out and promoted.
/// </summary>
public sealed class CiTemplateTests : IAsyncDisposable
{
    private readonly FolderServer _server = new();
    private readonly TestRepository _sources = new();

    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync();
        _sources.Dispose();
    }

    [Fact]
    public async Task The_template_validates_scans_registers_and_deploys_a_pushed_model()
    {
        var registryFolder = Path.Combine(_sources.Root, "registry");
        _sources.Add("simple", SampleModels.AddSub(DataType.Int32, 4), """{ "name": "simple", "max_batch_size": 8 }""");
        var modelFolder = Path.Combine(_sources.Root, "simple");
        var registry = await RegistryDatabases.OpenAsync(registryFolder, null, null, TimeProvider.System, default);
        await registry.PushAsync(new PushRequest("simple", Path.Combine(modelFolder, "1"), Path.Combine(modelFolder, "config.json"), "bootstrap"), default);
        await registry.MoveAliasAsync("simple", "champion", 1, "bootstrap", "first release", default);
        _server.Configuration.AddRange(["--Turbine:Registry:Folder=" + registryFolder, "--Turbine:Registry:Follow:0=simple@champion", "--Turbine:Registry:PollInterval=00:00:00.100"]);
        await _server.StartAsync();
        var client = new TurbineHttpClient(_server.Http);
        await WaitUntilServedAsync(client);
        await client.SetRouteAsync("simple-api", """{ "variants": [ { "model": "simple" } ] }""");
        using var traffic = new SteadyTraffic(client, "simple-api", clients: 2);
        await traffic.WaitForRequestsAsync(20);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var overrides = new Dictionary<string, string>
        {
            ["MODEL"] = "simple",
            ["MODEL_DIR"] = modelFolder,
            ["ROUTE"] = "simple-api",
            ["TURBINE"] = $"dotnet {CliProcess.CliPath()}",
            ["TURBINE_REGISTRY"] = registryFolder,
            ["TURBINE_URL"] = $"http://127.0.0.1:{_server.Server.HttpPort}",
            ["TURBINE_TOKEN"] = string.Empty,
            ["SIGNING_KEY_PEM"] = key.ExportECPrivateKeyPem(),
            ["LATENCY_BUDGET_MS"] = "1000",
            ["MAX_SLOWDOWN"] = "3", // the pushed model is the same as version 1: only noise can slow it
            ["CANARY_STEPS"] = "50,100",
            ["CANARY_MIN_REQUESTS"] = "20",
            ["CANARY_MIN_STEP_S"] = "0.2",
            ["CANARY_MAX_P99_MS"] = "500",
        };

        var outputs = await RunWorkflowAsync(Path.Combine(CliProcess.RepositoryRoot(), "deploy", "ci", "github-actions.yml"), overrides);

        var (_, failures) = await traffic.StopAsync();
        Assert.Empty(failures);
        Assert.Equal("2", outputs["push.version"]);
        Assert.Contains("deployed simple version 2 as @champion", outputs["log"], StringComparison.Ordinal);
        Assert.Contains("pipeline-stage", outputs["log"], StringComparison.Ordinal); // the history step ran
        var version = (await registry.Store.GetVersionAsync("simple", 2, default))!;
        Assert.StartsWith("github-actions (", version.Signer, StringComparison.Ordinal);
        Assert.Equal(("42", "0123abcd"), (version.Lineage["source_run"], version.Lineage["commit"]));
        Assert.Equal(2, Assert.Single(await registry.Store.ListAliasesAsync("simple", default)).Version);
        Assert.Equal("ci-test", version.CreatedBy);
    }

    /// <summary>
    /// Runs the <c>deploy</c> job's <c>run</c> steps with bash (<c>-e</c>, as Actions does), the workflow's env with
    /// <paramref name="overrides"/> and each step's env, <c>${{ steps.ID.outputs.NAME }}</c> filled from
    /// <c>$GITHUB_OUTPUT</c>. The <c>uses</c> steps (checkout, setup-dotnet) are what this machine already is.
    /// </summary>
    private async Task<Dictionary<string, string>> RunWorkflowAsync(string path, IReadOnlyDictionary<string, string> overrides)
    {
        var yaml = new YamlStream();
        using (var reader = new StreamReader(path))
        {
            yaml.Load(reader);
        }

        var root = (YamlMappingNode)yaml.Documents[0].RootNode;
        var environment = ((YamlMappingNode)root["env"]).Children.ToDictionary(e => ((YamlScalarNode)e.Key).Value!, e => ((YamlScalarNode)e.Value).Value!);
        Assert.All(overrides.Keys, name => Assert.True(environment.ContainsKey(name), $"the template has no env {name}"));
        foreach (var (name, value) in overrides)
        {
            environment[name] = value;
        }

        var runnerTemp = Directory.CreateDirectory(Path.Combine(_sources.Root, "runner")).FullName;
        var outputsFile = Path.Combine(runnerTemp, "github-output");
        environment["RUNNER_TEMP"] = runnerTemp;
        environment["GITHUB_ACTOR"] = "ci-test";
        environment["GITHUB_RUN_ID"] = "42";
        environment["GITHUB_SHA"] = "0123abcd";
        var outputs = new Dictionary<string, string>(StringComparer.Ordinal) { ["log"] = string.Empty };
        var steps = (YamlSequenceNode)((YamlMappingNode)((YamlMappingNode)root["jobs"])["deploy"])["steps"];
        foreach (var step in steps.Cast<YamlMappingNode>())
        {
            if (step.Children.ContainsKey("uses"))
            {
                Assert.Matches("^actions/(checkout|setup-dotnet)@v4$", ((YamlScalarNode)step["uses"]).Value!);
                continue;
            }

            var stepEnvironment = new Dictionary<string, string>(environment) { ["GITHUB_OUTPUT"] = outputsFile };
            if (step.Children.TryGetValue("env", out var extra))
            {
                foreach (var (name, value) in ((YamlMappingNode)extra).Children)
                {
                    stepEnvironment[((YamlScalarNode)name).Value!] = Regex.Replace(((YamlScalarNode)value).Value!, @"\$\{\{\s*steps\.(\w+)\.outputs\.(\w+)\s*\}\}", m => outputs[$"{m.Groups[1].Value}.{m.Groups[2].Value}"], RegexOptions.None, TimeSpan.FromSeconds(1));
                }
            }

            File.WriteAllText(outputsFile, string.Empty);
            var (exit, log) = await BashAsync(((YamlScalarNode)step["run"]).Value!, stepEnvironment);
            outputs["log"] += log;
            Assert.True(exit == 0, $"step '{((YamlScalarNode)step["name"]).Value}' failed: {log}");
            var id = step.Children.TryGetValue("id", out var stepId) ? ((YamlScalarNode)stepId).Value! : null;
            foreach (var line in File.ReadAllLines(outputsFile).Where(l => l.Contains('=', StringComparison.Ordinal)))
            {
                outputs[$"{id}.{line[..line.IndexOf('=', StringComparison.Ordinal)]}"] = line[(line.IndexOf('=', StringComparison.Ordinal) + 1)..];
            }
        }

        return outputs;
    }

    private static async Task<(int ExitCode, string Output)> BashAsync(string script, IReadOnlyDictionary<string, string> environment)
    {
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("-e");
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(script);
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(3));
        return (process.ExitCode, await output + await errors);
    }

    private static async Task WaitUntilServedAsync(TurbineHttpClient client)
    {
        for (var attempt = 0; attempt < 200 && !await client.IsModelReadyAsync("simple"); attempt++)
        {
            await Task.Delay(50);
        }
    }
}
