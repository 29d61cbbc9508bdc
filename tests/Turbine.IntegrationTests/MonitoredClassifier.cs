using System.Globalization;
using System.Text;
using Turbine.Onnx.Tools;
using Turbine.Tests;

namespace Turbine.IntegrationTests;

/// <summary>
/// The classifier the monitoring tests serve (`clf`: 3 features, 2 classes), its reference profile made from a CSV by
/// `turbine profile`, and traffic drawn from the reference's distribution, shifted or not.
/// </summary>
internal static class MonitoredClassifier
{
    public const string Name = "clf";

    /// <summary>Adds the model with <paramref name="config"/> and profiles <paramref name="rows"/> labelled reference rows with the CLI.</summary>
    public static async Task AddAsync(TestRepository folder, string config, int rows)
    {
        folder.Add(Name, SampleModels.Mlp(3, 8, 2, seed: 3), config);
        var csv = Path.Combine(folder.Root, "reference.csv");
        var random = new Random(2);
        var lines = new StringBuilder("f0,f1,f2,truth\n");
        for (var r = 0; r < rows; r++)
        {
            lines.Append(CultureInfo.InvariantCulture, $"{Gaussian(random)},{Gaussian(random)},{Gaussian(random)},{random.Next(2)}\n");
        }

        await File.WriteAllTextAsync(csv, lines.ToString());
        var output = await CliProcess.RunAsync("profile", csv, "--model", Name, "-r", folder.Root, "--map", "features=f0,f1,f2", "--label", "truth", "--no-progress");
        Assert.Contains($"profiled {rows} rows", output, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(folder.Root, Name, "1", "profile.json")));
    }

    /// <summary>Sends <paramref name="rows"/> rows in requests of ten, every feature shifted by <paramref name="shift"/>, and waits until the monitor has them.</summary>
    public static async Task SendAsync(FolderServer server, Random random, int rows, double shift)
    {
        var target = Monitor(server).Rows + rows;
        for (var sent = 0; sent < rows; sent += 10)
        {
            var batch = Enumerable.Range(0, 10).Select(_ => new[] { (float)(Gaussian(random) + shift), (float)(Gaussian(random) + shift), (float)(Gaussian(random) + shift) }).ToArray();
            using var response = await server.Http.PostAsync($"v2/models/{Name}/infer", Request(batch));
            Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        }

        await WaitForRowsAsync(server, target);
    }

    /// <summary>
    /// The tap hands observations over on its own thread, and tells no one: waits (bounded, polling) until version 1
    /// of <paramref name="model"/> has taken <paramref name="rows"/> rows in all.
    /// </summary>
    public static async Task WaitForRowsAsync(FolderServer server, long rows, string model = Name)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (Monitor(server, model).Rows < rows)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"the monitor of '{model}' saw {Monitor(server, model).Rows} of {rows} rows");
            await Task.Delay(10);
        }
    }

    public static Turbine.Monitoring.VersionMonitor Monitor(FolderServer server, string model = Name) =>
        ((Turbine.Monitoring.MonitoringHub)server.Server.Services.GetService(typeof(Turbine.Monitoring.MonitoringHub))!).Find(model, "1")!;

    /// <summary>A KServe v2 request for <paramref name="rows"/>, with an id when given.</summary>
    public static StringContent Request(float[][] rows, string? id = null)
    {
        var data = string.Join(",", rows.SelectMany(r => r).Select(v => v.ToString("R", CultureInfo.InvariantCulture)));
        var idPart = id is null ? string.Empty : $"\"id\":\"{id}\",";
        return new StringContent($$"""{{{idPart}}"inputs":[{"name":"features","datatype":"FP32","shape":[{{rows.Length}},3],"data":[{{data}}]}]}""", Encoding.UTF8, "application/json");
    }

    public static double Gaussian(Random random) => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
