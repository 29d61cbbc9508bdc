using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Turbine.Core.Execution;
using Turbine.Core.Lifecycle;
using Turbine.Core.Repository;
using Turbine.Tests;

namespace Turbine.Core.Tests;

/// <summary>
/// Memory-aware paging: models load on their first request within a budget (here 3000 bytes, three 1000-byte models),
/// idle ones leave in policy order, pinned ones and ones with requests in flight stay, and what leaves gives its memory back.
/// </summary>
public sealed class ModelPagingTests : IAsyncDisposable
{
    private const int ModelBytes = 1000;

    private readonly TestRepository _files = new();
    private readonly PagedBackend _backend = new();
    private readonly FakeTimeProvider _time = new();
    private ModelManager _models = null!;
    private ModelPager _pager = null!;
    private ModelExecutor _inference = null!;

    public ModelPagingTests()
    {
        foreach (var name in new[] { "a", "b", "c", "d", "e", "pinned" })
        {
            _files.Add(name, new byte[ModelBytes]);
        }
    }

    [Fact]
    public async Task A_model_loads_on_its_first_request_and_its_load_time_is_recorded()
    {
        Start();
        Assert.False(_models.IsLoaded("a"));

        Assert.Null(await InferAsync("a"));

        Assert.True(_models.IsLoaded("a"));
        Assert.Equal(1, _pager.Loads);
        Assert.Equal(1, _models.LoadTimes["a"].Count);
        Assert.Equal((ModelBytes, 0L), _pager.ResidentBytes());
        Assert.Equal(StatusCode.NotFound, (await InferAsync("not-in-the-repository"))!.Code);
    }

    [Theory]
    [InlineData(PagingPolicy.Lru, "b")]
    [InlineData(PagingPolicy.Lfu, "c")]
    public async Task The_policy_chooses_which_idle_model_leaves(PagingPolicy policy, string evicted)
    {
        Start(policy: policy);

        // b is used most often but longest ago; a and c as often as each other, c before a.
        foreach (var name in new[] { "b", "b", "b", "b", "c", "c", "a", "a" })
        {
            Assert.Null(await InferAsync(name));
        }

        Assert.Null(await InferAsync("d"));

        Assert.False(_models.IsLoaded(evicted));
        Assert.Equal(3, new[] { "a", "b", "c", "d" }.Count(_models.IsLoaded));
        Assert.Equal(1, _pager.Evictions);
        Assert.StartsWith("unloaded: paged out to make room for 'd'", Assert.Single(_models.Index(false), e => e.Name == evicted).Reason, StringComparison.Ordinal);
        Assert.True(_models.AllReady()); // a model paged out is not a model that failed
    }

    [Fact]
    public async Task A_pinned_model_loads_at_start_and_never_leaves()
    {
        Start(pinned: "pinned");
        await _pager.LoadPinnedAsync(CancellationToken.None);
        Assert.True(_models.IsLoaded("pinned"));

        foreach (var name in new[] { "a", "b", "c", "d" })
        {
            Assert.Null(await InferAsync(name));
        }

        Assert.True(_models.IsLoaded("pinned"));
        Assert.Equal(["c", "d", "pinned"], new[] { "a", "b", "c", "d", "pinned" }.Where(_models.IsLoaded));
    }

    [Fact]
    public async Task A_model_with_a_request_in_flight_is_not_paged_out_and_a_budget_of_busy_models_refuses()
    {
        Start(budget: 2 * ModelBytes);
        _backend.HeldModels["a"] = true;
        _backend.RunGate.Reset();
        var held = InferAsync("a");
        await _backend.Entered.WaitAsync();
        Assert.Null(await InferAsync("b"));

        Assert.Null(await InferAsync("c")); // a was used first, but it is running: b leaves

        Assert.Equal(["a", "c"], new[] { "a", "b", "c" }.Where(_models.IsLoaded));
        _backend.HeldModels["c"] = true;
        var alsoHeld = InferAsync("c");
        await _backend.Entered.WaitAsync();

        var refused = await InferAsync("d");

        Assert.Equal(StatusCode.Unavailable, refused!.Code);
        Assert.Contains("held by models that are serving requests", refused.Message, StringComparison.Ordinal);
        Assert.Equal(1, _pager.Refusals);
        _backend.RunGate.Set();
        Assert.Null(await held);
        Assert.Null(await alsoHeld);
        Assert.Null(await InferAsync("d"));
    }

    [Fact]
    public async Task Requests_wait_for_one_shared_load_and_a_load_longer_than_the_wait_is_refused_while_it_goes_on()
    {
        Start(maxWait: TimeSpan.FromSeconds(5));
        _backend.LoadGate.Reset();
        var waiting = Enumerable.Range(0, 4).Select(_ => InferAsync("a")).ToList();
        Assert.True(SpinWait.SpinUntil(() => _pager.Waiting == 4, TimeSpan.FromSeconds(30)), "four requests wait for the load");

        _time.Advance(TimeSpan.FromSeconds(6));
        foreach (var refused in waiting)
        {
            var error = await refused;
            Assert.Equal(StatusCode.Unavailable, error!.Code);
            Assert.Contains("is loading on demand", error.Message, StringComparison.Ordinal);
        }

        Assert.Equal(0, _pager.Waiting);
        var retried = InferAsync("a"); // joins the load under way
        Assert.True(SpinWait.SpinUntil(() => _pager.Waiting == 1, TimeSpan.FromSeconds(30)));
        _backend.LoadGate.Set();

        Assert.Null(await retried);
        Assert.Equal(1, _backend.Creations["a"]);
        Assert.Equal(1, _pager.Loads);
    }

    [Fact]
    public async Task A_model_bigger_than_the_budget_is_refused_with_the_sizes()
    {
        _files.Add("huge", new byte[4 * ModelBytes]);
        Start();

        var error = await InferAsync("huge");

        Assert.Equal(StatusCode.Unavailable, error!.Code);
        Assert.Contains($"needs {4 * ModelBytes} bytes, more than the whole model paging budget of {3 * ModelBytes} bytes", error.Message, StringComparison.Ordinal);
        Assert.False(_backend.Creations.ContainsKey("huge"));
    }

    [Fact]
    public async Task A_failed_load_is_answered_from_memory_for_a_while_then_tried_again()
    {
        File.WriteAllText(Path.Combine(_files.Root, "a", "config.json"), "{ not json");
        Start();

        var first = await InferAsync("a");
        var second = await InferAsync("a");

        Assert.Equal(first, second);
        Assert.Contains("failed to load 'a'", first!.Message, StringComparison.Ordinal);
        Assert.Equal(1, _models.LoadTimes["a"].Count);
        File.Delete(Path.Combine(_files.Root, "a", "config.json"));
        _time.Advance(TimeSpan.FromSeconds(6));
        Assert.Null(await InferAsync("a"));
    }

    [Fact]
    public async Task Memory_comes_back_when_models_are_paged_out()
    {
        Start();
        var names = new[] { "a", "b", "c", "d", "e" };
        for (var round = 0; round < 4; round++)
        {
            foreach (var name in names)
            {
                Assert.Null(await InferAsync(name));
                Assert.True(_backend.LiveBytes <= 3 * ModelBytes, $"{_backend.LiveBytes} bytes live with a budget of {3 * ModelBytes}");
            }
        }

        Assert.Equal(4 * names.Length, _pager.Loads);
        Assert.Equal(4 * names.Length - 3, _pager.Evictions);
        Assert.Equal(3 * ModelBytes, _backend.LiveBytes);
        await _models.DisposeAsync();
        Assert.Equal(0, _backend.LiveBytes);
    }

    public async ValueTask DisposeAsync()
    {
        _backend.RunGate.Set();
        _backend.LoadGate.Set();
        if (_models is not null)
        {
            await _models.DisposeAsync();
        }

        _pager?.Dispose();
        _files.Dispose();
    }

    private void Start(PagingPolicy policy = PagingPolicy.Lru, string? pinned = null, long budget = 3 * ModelBytes, TimeSpan? maxWait = null)
    {
        _models = new ModelManager(new ModelRepository(_files.Root), BackendRegistry.Of(_backend), _time, NullLogger<ModelManager>.Instance);
        var settings = new ModelPagingSettings
        {
            BudgetBytes = budget,
            Policy = policy,
            Pinned = pinned is null ? new HashSet<string>() : [pinned],
            MaxWait = maxWait ?? TimeSpan.FromMinutes(5),
        };
        _pager = new ModelPager(_models, settings, _time, NullLogger<ModelPager>.Instance);
        _inference = new ModelExecutor(_models, pager: _pager);
    }

    private async Task<InferenceError?> InferAsync(string model)
    {
        await Task.Yield(); // callers may start several and hold some: each runs on its own
        using var request = new InferenceRequest { ModelName = model };
        request.Inputs.Add(Tensor.FromArray<float>("INPUT0", [1, 2], [1, 2]));
        var result = await _inference.InferAsync(request, CancellationToken.None);
        result.Response?.Dispose();
        return result.Error;
    }
}
