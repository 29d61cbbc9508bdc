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
