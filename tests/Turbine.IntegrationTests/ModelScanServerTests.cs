using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Turbine.Client;
using Turbine.Onnx.Scanning;
using Turbine.Onnx.Tools;
using Turbine.Tests;

namespace Turbine.IntegrationTests;

/// <summary>
/// SECURITY.md A23 on a real server: the model scan runs before a session is created, a version it blocks never
/// serves while the previous one goes on, and the policy comes from the server's settings.
/// </summary>
public sealed class ModelScanServerTests : IAsyncDisposable
{
    private readonly FolderServer _server = new();
    private readonly CapturingLoggerProvider _logs = new();

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task A_version_with_a_pickle_beside_it_is_refused_and_the_previous_version_keeps_serving()
    {
        AddSimple(1);
        await _server.StartAsync();
        var client = new TurbineHttpClient(_server.Http);
        Assert.Equal("1", await ServedVersionAsync(client));

        AddSimple(2);
        File.WriteAllBytes(Path.Combine(_server.Folder.Root, "simple", "2", "preprocess.bin"), [0x80, 0x04, 0x95, 0x10]);
        var refused = await Assert.ThrowsAsync<TurbineClientException>(() => client.LoadModelAsync("simple"));

        Assert.Contains("the model scan blocks this model: pickle (preprocess.bin)", refused.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(_server.Folder.Root, refused.Message, StringComparison.Ordinal);
        Assert.Equal("1", await ServedVersionAsync(client));
        var index = await client.GetRepositoryIndexAsync();
        Assert.Contains(index, m => m is { Name: "simple", Version: "1", State: "READY" });
    }

    [Fact]
    public async Task The_policy_comes_from_the_settings_and_a_warning_is_logged_with_its_event_id()
    {
        AddSimple(1);
        File.WriteAllBytes(Path.Combine(_server.Folder.Root, "simple", "1", "notes.pkl"), [0x80, 0x04]);
        _server.Configuration.Add($"--Turbine:ModelScan:WarnOnly:0={ScanFindingKinds.Pickle}");
        await _server.StartAsync(services: s => s.AddSingleton<ILoggerProvider>(_logs));
        var client = new TurbineHttpClient(_server.Http);

        Assert.Equal("1", await ServedVersionAsync(client));
        Assert.Contains(_logs.Records, r => r.EventId == LogEvents.InspectionWarning && r.Message.Contains("model scan: pickle (notes.pkl)", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_setting_that_would_weaken_external_data_checks_stops_the_server_from_starting()
    {
        AddSimple(1);
        _server.Configuration.Add($"--Turbine:ModelScan:WarnOnly:0={ScanFindingKinds.ExternalData}");

        var error = await Assert.ThrowsAnyAsync<Exception>(() => _server.StartAsync());

        Assert.Contains("'external-data' cannot be made a warning", error.Message, StringComparison.Ordinal);
    }

    private void AddSimple(int version) => _server.Folder.Add("simple", SampleModels.AddSub(DataType.Int32, 4), version: version);

    private static async Task<string> ServedVersionAsync(TurbineHttpClient client)
    {
        using var request = AddSubRequests.Create("simple");
        using var response = await client.InferAsync(request);
        return response.ModelVersion;
    }
}
