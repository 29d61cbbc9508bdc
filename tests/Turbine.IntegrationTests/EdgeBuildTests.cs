using System.Diagnostics;
using System.Net;
using System.Text;
using Turbine.Onnx.Tools;
using Turbine.Tests;

namespace Turbine.IntegrationTests;

/// <summary>
/// The edge build (issue 21, docs/EDGE.md): `turbine-edge` compiled ahead of time (NativeAOT) with no trimming or AOT
/// warning, then started on a repository, asked to infer, read for its metrics and stopped with SIGTERM.
/// </summary>
[Collection(SerialCollection.Name)] // the ahead-of-time compile takes both cores for a minute: not beside the allocation and battery tests
public sealed class EdgeBuildTests
{
    [Fact]
    public async Task The_native_edge_build_starts_infers_reports_metrics_and_stops()
    {
        var output = Directory.CreateTempSubdirectory("turbine-edge-").FullName;
        using var repository = new TestRepository().Add("simple", SampleModels.AddSub(DataType.Int32, 4), """{ "max_batch_size": 8 }""");
        AddCompressedVersions(repository);
        try
        {
            var project = Path.Combine(CliProcess.RepositoryRoot(), "src", "Turbine.Edge");
            var (code, log, errors) = await ChildProcess.RunAsync("dotnet", ["publish", project, "-c", "Release", "-r", "linux-x64", "-o", output, "--nologo", "-p:DebugType=none"]);
            Assert.True(code == 0, log + errors);
            Assert.DoesNotMatch(@"warning IL\d{4}", log); // trimming and AOT analysis found nothing to warn of
            var binary = Path.Combine(output, "turbine-edge");
            Assert.True(File.Exists(binary));

            if (Turbine.Edge.Updates.Posix.IsRoot)
            {
                // Hardening: root is refused unless asked for (CI runs as root, so the rest of the test asks).
                var (refusedCode, _, refusal) = await ChildProcess.RunAsync(binary, ["-m", repository.Root, "--http-port", "0"]);
                Assert.Equal(2, refusedCode);
                Assert.Contains("refusing to run as root", refusal, StringComparison.Ordinal);
            }

            string[] rootFlag = Turbine.Edge.Updates.Posix.IsRoot ? ["--allow-root"] : [];
            using var edge = Process.Start(new ProcessStartInfo(binary, ["-m", repository.Root, "--http-port", "0", .. rootFlag]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
            try
            {
                var started = await edge.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60));
                Assert.NotNull(started);
                Assert.StartsWith("turbine-edge is serving", started, StringComparison.Ordinal);
                using var http = new HttpClient { BaseAddress = new Uri(started![(started.LastIndexOf(" at ", StringComparison.Ordinal) + 4)..] + "/") };

                using (var ready = await http.GetAsync("v2/health/ready"))
                {
                    Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
                }

                using (var inferred = await http.PostAsync("v2/models/simple/infer", AddSubRequests.Content()))
                {
                    var body = await inferred.Content.ReadAsStringAsync();
                    Assert.Equal(HttpStatusCode.OK, inferred.StatusCode);
                    Assert.Contains("\"name\":\"OUTPUT0\",\"datatype\":\"INT32\",\"shape\":[1,4],\"data\":[2,3,4,5]", body, StringComparison.Ordinal);
                }

                using (var refused = await http.PostAsync("v2/models/nope/infer", AddSubRequests.Content()))
                {
                    Assert.Equal(HttpStatusCode.NotFound, refused.StatusCode);
                }

                await AssertCompressedVersionsAgreeAsync(http);

                var metrics = await http.GetStringAsync("metrics");
                Assert.Contains("turbine_inference_request_success_total{model=\"simple\",version=\"1\"} 1", metrics, StringComparison.Ordinal);
                var (exitCode, promtool) = await MetricsTests.PromtoolCheckAsync(metrics);
                Assert.True(exitCode == 0, promtool);

                _ = await ChildProcess.RunAsync("kill", ["-TERM", edge.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
                await edge.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
                Assert.Equal(0, edge.ExitCode);
                await UpdateWithTheNativeAgentAsync(binary);
            }
            finally
            {
                if (!edge.HasExited)
                {
                    edge.Kill();
                }
            }
        }
        finally
        {
            Directory.Delete(output, recursive: true);
        }
    }

    /// <summary>Version 1 of "dense" in fp32, version 2 quantized to int8 (dynamic), version 3 to int4 weights (MatMulNBits).</summary>
    private static void AddCompressedVersions(TestRepository repository)
    {
        repository.Add("dense", SampleModels.Mlp(inputs: 64, hidden: 256, classes: 16), """{ "max_batch_size": 8, "version_policy": { "all": {} } }""");
        var original = Path.Combine(repository.Root, "dense", "1", "model.onnx");
        foreach (var version in new[] { "2", "3" })
        {
            Directory.CreateDirectory(Path.Combine(repository.Root, "dense", version));
        }

        Turbine.Onnx.Tools.Optimization.DynamicQuantizationPass.Run(original, Path.Combine(repository.Root, "dense", "2", "model.onnx"));
        Turbine.Onnx.Tools.Optimization.Int4WeightPass.Run(original, Path.Combine(repository.Root, "dense", "3", "model.onnx"));
    }

    /// <summary>The edge build serves the optimization issue's int8 and int4 models, and they answer close to the original.</summary>
    private static async Task AssertCompressedVersionsAgreeAsync(HttpClient http)
    {
        var body = "{\"inputs\":[{\"name\":\"features\",\"shape\":[1,64],\"datatype\":\"FP32\",\"data\":[" +
            string.Join(",", Enumerable.Range(0, 64).Select(i => MathF.Sin(i).ToString("R", System.Globalization.CultureInfo.InvariantCulture))) + "]}]}";
        var answers = new List<double[]>();
        foreach (var version in new[] { "1", "2", "3" })
        {
            using var response = await http.PostAsync($"v2/models/dense/versions/{version}/infer", new StringContent(body, Encoding.UTF8, "application/json"));
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.OK, text);
            using var json = System.Text.Json.JsonDocument.Parse(text);
            var probabilities = json.RootElement.GetProperty("outputs").EnumerateArray().First(o => o.GetProperty("name").GetString() == "probabilities");
            answers.Add([.. probabilities.GetProperty("data").EnumerateArray().Select(v => v.GetDouble())]);
        }

        // The same class, and probabilities within 0.1 (int4 moves a saturated softmax by up to 0.06 on these random weights).
        var top = Array.IndexOf(answers[0], answers[0].Max());
        Assert.All(answers.Skip(1), compressed =>
        {
            Assert.Equal(top, Array.IndexOf(compressed, compressed.Max()));
            Assert.All(compressed.Zip(answers[0]), pair => Assert.True(Math.Abs(pair.First - pair.Second) < 0.1, $"{pair.First} against {pair.Second}"));
        });
    }

    /// <summary>
    /// The compiled agent through a whole update (signature checks, download, unpacking, the switch, the health check's
    /// golden case, the commit): everything the update path uses must work without reflection.
    /// </summary>
    private static async Task UpdateWithTheNativeAgentAsync(string binary)
    {
        await using var device = await Edge.EdgeDevice.ProvisionAsync();
        device.Publish(device.MakeBundle(2), 2);
        var agent = device.Start(program: binary);
        await agent.ServingAsync("slot a (version 1) serves at");
        var address = await agent.ServingAsync("slot b (version 2) serves at");
        await agent.WaitForAsync("committed slot b (version 2)");
        Assert.Equal("2", await Edge.EdgeDevice.InferAsync(address));
        Assert.Equal(0, await agent.StopAsync());
    }
}
