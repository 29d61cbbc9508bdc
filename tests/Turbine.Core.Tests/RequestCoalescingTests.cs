using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Turbine.Core.Caching;
using Turbine.Core.Execution;
using Turbine.Core.Lifecycle;
using Turbine.Core.Repository;
using Turbine.Onnx.Tools;
using Turbine.Tests;

namespace Turbine.Core.Tests;

/// <summary>
/// Identical requests in flight at once to a deterministic model (one that enables the response cache) share one run,
/// with the server's cache off so that nothing but coalescing can answer them; a lead that fails leaves its followers
/// to run on their own.
/// </summary>
public sealed class RequestCoalescingTests : IAsyncDisposable
{
    private const string Deterministic = """{ "max_batch_size": 0, "response_cache": { "enable": true } }""";
    private readonly TestRepository _files = new();
    private readonly GatedBackend _backend = new();
    private readonly ModelManager _models;
    private readonly ModelExecutor _inference;

    public RequestCoalescingTests()
    {
        _models = new ModelManager(new ModelRepository(_files.Root), BackendRegistry.Of(_backend), new FakeTimeProvider(), NullLogger<ModelManager>.Instance);
        _inference = new ModelExecutor(_models, new ResponseCache(0));
    }

    public async ValueTask DisposeAsync()
    {
        _backend.Gate.Set();
        await _models.DisposeAsync();
        _files.Dispose();
    }

    private async Task AddAsync(string name, string config)
    {
        _files.Add(name, SampleModels.AddSub(DataType.Int32, 4), config);
        Assert.Null(await _models.LoadAsync(name, CancellationToken.None));
    }

    private Task<InferenceResult> SendAsync(string model, int[] input, CancellationToken cancellationToken = default)
    {
        var request = new InferenceRequest { ModelName = model };
        request.Inputs.Add(Tensor.FromArray<int>("INPUT0", [1, 4], input));
        request.Inputs.Add(Tensor.FromArray<int>("INPUT1", [1, 4], [10, 20, 30, 40]));
        return _inference.InferAsync(request, cancellationToken).AsTask();
    }

    private static string Outputs(InferenceResult result)
    {
        Assert.Null(result.Error);
        using var response = result.Response!;
        return string.Join(";", response.Outputs.Select(o => o.Name + "=" + string.Join(",", o.ToArray<int>())));
    }

    [Fact]
    public async Task Identical_requests_in_flight_together_share_one_run_and_each_gets_its_own_answer()
    {
        await AddAsync("det", Deterministic);
        _backend.Gate.Reset();
        var lead = SendAsync("det", [1, 2, 3, 4]);
        Assert.True(await _backend.Entered.WaitAsync(TimeSpan.FromSeconds(10)));
        var followers = Enumerable.Range(0, 5).Select(_ => SendAsync("det", [1, 2, 3, 4])).ToList();
        var different = SendAsync("det", [4, 3, 2, 1]);

        _backend.Gate.Set();
        var answers = (await Task.WhenAll([lead, .. followers])).Select(Outputs).ToList();
        Outputs(await different);

        Assert.Single(answers.Distinct());
        Assert.Equal("OUTPUT0=11,22,33,44;OUTPUT1=-9,-18,-27,-36", answers[0]);
        Assert.Equal(2, _models.Snapshot("det")!.Runner(1)!.Statistics.ExecutionCount); // one for the six, one for the other input
        Assert.Equal(7, _models.Snapshot("det")!.Runner(1)!.Statistics.Success.Count); // every request answered
        Assert.Equal(0, _models.Snapshot("det")!.Runner(1)!.Statistics.CacheHit.Count); // shared, not cached
    }

    [Fact]
    public async Task Followers_of_a_lead_whose_client_left_run_on_their_own()
    {
        await AddAsync("det", Deterministic);
        _backend.Gate.Reset();
        using var leaving = new CancellationTokenSource();
        var blocker = SendAsync("det", [9, 9, 9, 9]); // holds the only instance, so the lead below waits in the queue
        Assert.True(await _backend.Entered.WaitAsync(TimeSpan.FromSeconds(10)));
        var lead = SendAsync("det", [1, 2, 3, 4], leaving.Token);
        var follower = SendAsync("det", [1, 2, 3, 4]);

        await leaving.CancelAsync();
        Assert.Equal(StatusCode.Cancelled, (await lead).Error?.Code);
        _backend.Gate.Set();

        Assert.Equal("OUTPUT0=11,22,33,44;OUTPUT1=-9,-18,-27,-36", Outputs(await follower));
        Outputs(await blocker);
    }

    [Fact]
    public async Task A_model_that_does_not_declare_itself_deterministic_runs_every_request()
    {
        await AddAsync("plain", """{ "max_batch_size": 0 }""");
        _backend.Gate.Reset();
        var first = SendAsync("plain", [1, 2, 3, 4]);
        Assert.True(await _backend.Entered.WaitAsync(TimeSpan.FromSeconds(10)));
        var second = SendAsync("plain", [1, 2, 3, 4]);

        _backend.Gate.Set();
        Outputs(await first);
        Outputs(await second);

        Assert.Equal(2, _models.Snapshot("plain")!.Runner(1)!.Statistics.ExecutionCount);
    }
}
