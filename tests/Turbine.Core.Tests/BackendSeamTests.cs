using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Turbine.Core.Caching;
using Turbine.Core.Execution;
using Turbine.Core.Lifecycle;
using Turbine.Core.Repository;
using Turbine.Onnx;
using Turbine.Onnx.Tools;
using Turbine.Tests;

namespace Turbine.Core.Tests;

/// <summary>Backends picked by name and runners of another kind, through the same manager and service as ONNX models.</summary>
public sealed class BackendSeamTests : IAsyncDisposable
{
    private const string OffsetConfig = """{ "backend": "offset", "max_batch_size": 4, "offset": { "bias": 100 }, "version_policy": { "all": {} }, "response_cache": { "enable": true } }""";
    /// <summary>A fixed base for model files' write times, so that each rewrite reads as a change whatever the clock.</summary>
    private static readonly DateTime Written = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
    private readonly TestRepository _files = new();
    private readonly OffsetBackend _offset = new();
    private readonly ModelManager _models;
    private readonly ModelExecutor _inference;

    public BackendSeamTests()
    {
        _models = new ModelManager(new ModelRepository(_files.Root), new BackendRegistry([new OnnxBackend(), _offset]), new FakeTimeProvider(), NullLogger<ModelManager>.Instance);
        _inference = new ModelExecutor(_models, new ResponseCache(1024 * 1024));
    }

    public async ValueTask DisposeAsync()
    {
        await _models.DisposeAsync();
        _files.Dispose();
    }

    [Fact]
    public async Task Models_of_two_backends_serve_side_by_side_each_with_its_own_settings()
    {
        _files.Add("onnx", SampleModels.AddSub(DataType.Int32, 2));
        AddOffset("offset", version: 1, offset: 1, OffsetConfig);
        await _models.LoadAsync(["onnx", "offset"], CancellationToken.None);

        Assert.Equal("101,102", await RunAsync("offset", [0, 1]));
        Assert.True(_inference.TryGetModel("offset", null, out var info) is null);
        Assert.Equal("offset", info!.Config.Backend);
        Assert.Equal(new OffsetBackend.OffsetSettings(100), info.Config.Settings);
        Assert.Equal(1, info.Statistics.Success.Count);
        Assert.True(_inference.TryGetModel("onnx", null, out var onnx) is null);
        Assert.Equal("onnxruntime", onnx!.Config.Backend);
    }

    [Fact]
    public async Task A_runner_of_another_kind_gets_versions_labels_warmup_reload_and_drain_unchanged()
    {
        const string Warmup = """, "model_warmup": [ { "name": "w", "batch_size": 1, "inputs": { "INPUT0": { "data_type": "TYPE_INT32", "dims": [2], "zero_data": true } } } ] }""";
        AddOffset("offset", version: 1, offset: 1, config: OffsetConfig[..OffsetConfig.LastIndexOf('}')] + Warmup);
        AddOffset("offset", version: 2, offset: 2);
        Assert.Null(await _models.LoadAsync("offset", CancellationToken.None));
        var first = _offset.Runners.ToArray();
        Assert.All(first, runner => Assert.Equal(1, runner.Runs)); // warm-up ran through each version's own runner

        Assert.Equal("102,102", await RunAsync("offset", [0, 0]));
        Assert.Equal("101,101", await RunAsync("offset", [0, 0], "1"));
        Assert.Null((await _models.SetLabelAsync("offset", "stable", 1, CancellationToken.None)).Error);
        Assert.Equal("101,101", await RunAsync("offset", [0, 0], "stable"));

        AddOffset("offset", version: 2, offset: 7); // version 2 replaced in place
        Assert.Null(await _models.LoadAsync("offset", CancellationToken.None));

        Assert.Equal("107,107", await RunAsync("offset", [0, 0]));
        var replaced = first.Single(r => r.Version == 2);
        Assert.True(replaced.IsRetired); // drained through the seam
        Assert.False(first.Single(r => r.Version == 1).IsRetired); // unchanged: kept, not reloaded
        Assert.Equal(3, _offset.Runners.Count);
    }

    [Fact]
    public async Task A_backend_rejects_its_own_bad_settings_as_a_load_error()
    {
        AddOffset("offset", version: 1, offset: 1, config: OffsetConfig.Replace("100", "-1", StringComparison.Ordinal));

        var error = await _models.LoadAsync("offset", CancellationToken.None);

        Assert.Contains("'offset.bias' must be >= 0", error!.Message, StringComparison.Ordinal);
    }

    private void AddOffset(string name, int version, int offset, string? config = null)
    {
        _files.Add(name, System.Text.Encoding.ASCII.GetBytes(offset.ToString(System.Globalization.CultureInfo.InvariantCulture)), config, version, "model.txt");
        // A rewrite within the file system's time resolution must still read as a change.
        File.SetLastWriteTimeUtc(Path.Combine(_files.Root, name, version.ToString(System.Globalization.CultureInfo.InvariantCulture), "model.txt"), Written.AddMinutes(version * 10 + offset));
    }

    private async Task<string> RunAsync(string model, int[] input, string? version = null)
    {
        using var request = new InferenceRequest { ModelName = model, ModelVersion = version };
        request.Inputs.Add(Tensor.FromArray<int>("INPUT0", [1, 2], input));
        var result = await _inference.InferAsync(request, CancellationToken.None);
        Assert.Null(result.Error);
        using var response = result.Response!;
        return string.Join(",", response.Outputs[0].ToArray<int>());
    }
}
