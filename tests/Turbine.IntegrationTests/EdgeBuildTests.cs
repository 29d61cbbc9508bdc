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

            using var edge = Process.Start(new ProcessStartInfo(binary, ["-m", repository.Root, "--http-port", "0"]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
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
}
