using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Turbine.Core.Execution;
using Turbine.Core.Lifecycle;
using Turbine.Core.Repository;
using Turbine.Core.State;
using Turbine.Onnx;
using Turbine.Onnx.Tools;
using Turbine.Tests;

namespace Turbine.Core.Tests;

/// <summary>Versions, default versions, labels, rollback, reloads that fail or change nothing, and warm-up.</summary>
public sealed class VersionLifecycleTests : IAsyncDisposable
{
    private const string KeepTwo = """{ "max_batch_size": 8, "version_policy": { "latest": { "num_versions": 2 } } }""";
    private readonly TestRepository _files = new();
    private readonly string _state;
    private ModelManager _models;
    private ModelExecutor _inference;

    public VersionLifecycleTests()
    {
        _state = Path.Combine(_files.Root, ".turbine");
        _models = NewManager();
        _inference = new ModelExecutor(_models);
    }

    public async ValueTask DisposeAsync()
    {
        await _models.DisposeAsync();
        _files.Dispose();
    }

    [Fact]
    public async Task Default_version_labels_and_rollback_switch_versions_without_a_reload()
    {
        AddSimple(1, KeepTwo);
        AddSimple(2);
        Assert.Null(await _models.LoadAsync("simple", CancellationToken.None));
        Assert.Equal("2", await ServedVersionAsync(null));

        var (view, error) = await _models.RollbackAsync("simple", CancellationToken.None);
        Assert.Null(error);
        Assert.Equal(1, view!.DefaultVersion);
        Assert.True(view.Pinned);
        Assert.Equal("1", await ServedVersionAsync(null));
        Assert.Equal("2", await ServedVersionAsync("2")); // the version rolled back from stays reachable by number

        (_, error) = await _models.SetLabelAsync("simple", "canary", 2, CancellationToken.None);
        Assert.Null(error);
        Assert.Equal("2", await ServedVersionAsync("canary"));
        Assert.Equal(StatusCode.NotFound, (await ErrorAsync("stable"))!.Code);

        (view, error) = await _models.RollbackAsync("simple", CancellationToken.None);
        Assert.Null(view);
        Assert.Contains("no ready version older than 1", error!.Message, StringComparison.Ordinal);

        (view, _) = await _models.SetDefaultVersionAsync("simple", null, CancellationToken.None);
        Assert.False(view!.Pinned);
        Assert.Equal("2", await ServedVersionAsync(null));
    }

    [Fact]
    public async Task Routing_survives_a_restart()
    {
        AddSimple(1, KeepTwo);
        AddSimple(2);
        await _models.LoadAsync("simple", CancellationToken.None);
        await _models.RollbackAsync("simple", CancellationToken.None);
        await _models.SetLabelAsync("simple", "stable", 1, CancellationToken.None);

        await RestartAsync();

        Assert.Equal("1", await ServedVersionAsync(null));
        Assert.Equal("1", await ServedVersionAsync("stable"));
        Assert.Empty(Directory.GetFiles(_state, "*.tmp", SearchOption.AllDirectories));
    }

    [Theory]
    [InlineData("", 1L)]
    [InlineData("1abc", 1L)]
    [InlineData("a/b", 1L)]
    [InlineData("stable", 7L)]
    public async Task Labels_and_defaults_are_refused_when_invalid_or_not_ready(string label, long version)
    {
        AddSimple(1);
        await _models.LoadAsync("simple", CancellationToken.None);

        var (view, error) = await _models.SetLabelAsync("simple", label, version, CancellationToken.None);

        Assert.Null(view);
        Assert.Equal(StatusCode.InvalidArgument, error!.Code);
        Assert.Equal(StatusCode.InvalidArgument, (await _models.SetDefaultVersionAsync("simple", 7, CancellationToken.None)).Error!.Code);
        Assert.Equal(StatusCode.NotFound, (await _models.RollbackAsync("nope", CancellationToken.None)).Error!.Code);
    }

    [Fact]
    public async Task A_corrupt_new_version_leaves_the_previous_one_serving()
    {
        AddSimple(1, """{ "max_batch_size": 8 }""");
        await _models.LoadAsync("simple", CancellationToken.None);
        _files.Add("simple", [1, 2, 3], version: 2);

        var error = await _models.LoadAsync("simple", CancellationToken.None);

        Assert.Contains("version 2", error!.Message, StringComparison.Ordinal);
        Assert.Equal("1", await ServedVersionAsync(null));
    }

    [Fact]
    public async Task A_broken_config_on_reload_leaves_the_previous_load_serving()
    {
        AddSimple(1, """{ "max_batch_size": 8 }""");
        await _models.LoadAsync("simple", CancellationToken.None);
        File.WriteAllText(Path.Combine(_files.Root, "simple", "config.json"), "{ not json");

        Assert.NotNull(await _models.LoadAsync("simple", CancellationToken.None));

        Assert.Equal("1", await ServedVersionAsync(null));
        Assert.Contains("not valid JSON", _models.Snapshot("simple")!.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_reload_keeps_unchanged_versions_running_and_reloads_changed_ones()
    {
        AddSimple(1, KeepTwo);
        await _models.LoadAsync("simple", CancellationToken.None);
        var first = _models.Snapshot("simple")!.Runner(1);
        AddSimple(2);

        await _models.LoadAsync("simple", CancellationToken.None);

        Assert.Same(first, _models.Snapshot("simple")!.Runner(1));
        Assert.False(first!.IsRetired);
        File.WriteAllText(Path.Combine(_files.Root, "simple", "config.json"), KeepTwo.Replace("8", "4", StringComparison.Ordinal));
        await _models.LoadAsync("simple", CancellationToken.None);
        Assert.NotSame(first, _models.Snapshot("simple")!.Runner(1));
        Assert.True(first.IsRetired);
        Assert.Equal(4, _models.Snapshot("simple")!.Runner(1)!.Config.MaxBatchSize);
    }

    [Fact]
    public async Task A_version_folder_without_its_model_file_is_not_a_version_yet()
    {
        AddSimple(1);
        await _models.LoadAsync("simple", CancellationToken.None);
        Directory.CreateDirectory(Path.Combine(_files.Root, "simple", "2"));

        Assert.Null(await _models.LoadAsync("simple", CancellationToken.None));

        Assert.Equal("1", await ServedVersionAsync(null));
        Assert.Equal([1L], _models.Snapshot("simple")!.Versions.Select(v => v.Version));
    }

    [Fact]
    public async Task Warmup_runs_every_sample_on_every_instance_before_the_version_serves()
    {
        AddSimple(1, """
            {
              "max_batch_size": 8, "instance_group": [ { "count": 2 } ],
              "model_warmup": [
                { "name": "zeros", "batch_size": 4, "count": 3, "inputs": {
                    "INPUT0": { "data_type": "TYPE_INT32", "dims": [4], "zero_data": true },
                    "INPUT1": { "data_type": "TYPE_INT32", "dims": [4], "random_data": true } } },
                { "name": "from file", "batch_size": 1, "inputs": {
                    "INPUT0": { "data_type": "TYPE_INT32", "dims": [4], "input_data_file": "in0.raw" },
                    "INPUT1": { "data_type": "TYPE_INT32", "dims": [4], "input_data_file": "in0.raw" } } }
              ]
            }
            """);
        Directory.CreateDirectory(Path.Combine(_files.Root, "simple", "warmup"));
        File.WriteAllBytes(Path.Combine(_files.Root, "simple", "warmup", "in0.raw"), new byte[16]);

        Assert.Null(await _models.LoadAsync("simple", CancellationToken.None));

        var statistics = _models.Snapshot("simple")!.Runner(1)!.Statistics;
        Assert.Equal((3 * 2) + 2, statistics.Success.Count);
    }

    [Theory]
    [InlineData("""{ "INPUT9": { "data_type": "TYPE_INT32", "dims": [4], "zero_data": true } }""", "unexpected inference input 'INPUT9'")]
    [InlineData("""{ "INPUT0": { "data_type": "TYPE_INT32", "dims": [4], "input_data_file": "missing.raw" }, "INPUT1": { "data_type": "TYPE_INT32", "dims": [4], "zero_data": true } }""", "warmup/missing.raw is missing")]
    [InlineData("""{ "INPUT0": { "data_type": "TYPE_INT32", "dims": [4], "input_data_file": "short.raw" }, "INPUT1": { "data_type": "TYPE_INT32", "dims": [4], "zero_data": true } }""", "byte size")]
    public async Task A_failing_warmup_fails_the_load_and_keeps_the_previous_version(string inputs, string reason)
    {
        AddSimple(1, """{ "max_batch_size": 8 }""");
        await _models.LoadAsync("simple", CancellationToken.None);
        Directory.CreateDirectory(Path.Combine(_files.Root, "simple", "warmup"));
        File.WriteAllBytes(Path.Combine(_files.Root, "simple", "warmup", "short.raw"), new byte[3]);
        File.WriteAllText(Path.Combine(_files.Root, "simple", "config.json"), $$"""{ "max_batch_size": 8, "model_warmup": [ { "name": "w", "inputs": {{inputs}} } ] }""");
        AddSimple(2);

        var error = await _models.LoadAsync("simple", CancellationToken.None);

        Assert.Contains("warm-up sample 'w' failed", error!.Message, StringComparison.Ordinal);
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
        Assert.Equal("1", await ServedVersionAsync(null));
    }

    [Theory]
    [InlineData("""[ { "inputs": { "INPUT0": { "data_type": "TYPE_INT32", "dims": [4], "input_data_file": "../../etc/passwd" } } } ]""")]
    [InlineData("""[ { "inputs": { "INPUT0": { "data_type": "TYPE_INT32", "dims": [-1], "zero_data": true } } } ]""")]
    [InlineData("""[ { "count": 100000, "inputs": { } } ]""")]
    [InlineData("""{ "inputs": [] }""")]
    public void Invalid_warmup_configs_are_refused_by_name(string warmup)
    {
        var errors = new List<string>();
        ModelConfigReader.Read($$"""{ "model_warmup": {{warmup}} }""", errors);
        Assert.Contains(errors, e => e.Contains("model_warmup", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_request_that_races_a_reload_is_served_by_the_new_version()
    {
        AddSimple(1, """{ "max_batch_size": 8 }""");
        await _models.LoadAsync("simple", CancellationToken.None);
        using var stop = new CancellationTokenSource();
        var failures = 0;
        var served = 0;
        var traffic = Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                if (await ErrorAsync(null) is null)
                {
                    Interlocked.Increment(ref served);
                }
                else
                {
                    Interlocked.Increment(ref failures);
                }
            }
        })));

        for (var version = 2; version <= 11; version++)
        {
            AddSimple(version);
            Assert.Null(await _models.LoadAsync("simple", CancellationToken.None));
        }

        await stop.CancelAsync();
        await traffic;
        Assert.Equal(0, failures);
        Assert.True(served > 0);
        Assert.Equal("11", await ServedVersionAsync(null));
    }

    private ModelManager NewManager() =>
        new(new ModelRepository(_files.Root), BackendRegistry.Of(new OnnxBackend()), new FakeTimeProvider(), NullLogger<ModelManager>.Instance, new VersionRoutingStore(new FileStateStore(_state)));

    private async Task RestartAsync()
    {
        await _models.DisposeAsync();
        _models = NewManager();
        _inference = new ModelExecutor(_models);
        await _models.LoadAllAsync(CancellationToken.None);
    }

    private void AddSimple(int version, string? config = null) => _files.Add("simple", SampleModels.AddSub(DataType.Int32, 4), config, version);

    private async Task<string> ServedVersionAsync(string? version)
    {
        using var request = SimpleRequest(version);
        var result = await _inference.InferAsync(request, CancellationToken.None);
        Assert.Null(result.Error);
        using var response = result.Response!;
        return response.ModelVersion;
    }

    private async Task<InferenceError?> ErrorAsync(string? version)
    {
        using var request = SimpleRequest(version);
        var result = await _inference.InferAsync(request, CancellationToken.None);
        result.Response?.Dispose();
        return result.Error;
    }

    private static InferenceRequest SimpleRequest(string? version)
    {
        var request = new InferenceRequest { ModelName = "simple", ModelVersion = version };
        request.Inputs.Add(Tensor.FromArray<int>("INPUT0", [1, 4], [1, 2, 3, 4]));
        request.Inputs.Add(Tensor.FromArray<int>("INPUT1", [1, 4], [10, 20, 30, 40]));
        return request;
    }
}
