using System.Net;
using Turbine.Onnx.Tools;
using Turbine.Server.Hosting;
using Turbine.Tests;

namespace Turbine.IntegrationTests;

/// <summary>
/// Paging on a real server: three ONNX models with a budget for two and one pinned. Nothing but the pinned model
/// loads at start; a request loads its model (over REST and gRPC); when both models that hold the budget are
/// running requests, a miss gets 503 with Retry-After and the server keeps serving; once they finish, the miss loads
/// and the least recently used model leaves. /metrics shows it all.
/// </summary>
public sealed class ModelPagingServerTests : IAsyncLifetime
{
    private readonly FolderServer _server = new();
    private readonly GatedBackend _backend = new() { HeldModels = [] };

    public async Task InitializeAsync()
    {
        var model = SampleModels.AddSub(DataType.Int32, 4);
        foreach (var name in new[] { "pinned", "m1", "m2", "m3" })
        {
            _server.Folder.Add(name, model, """{ "max_batch_size": 8 }""");
        }

        await _server.StartAsync(
            options =>
            {
                options.ModelPaging.BudgetBytes = 3 * model.Length;
                options.ModelPaging.Pinned = ["pinned"];
            },
            _backend);
    }

    public Task DisposeAsync()
    {
        _backend.Gate.Set();
        return _server.DisposeAsync().AsTask();
    }

    [Fact]
    public async Task Models_load_on_demand_a_busy_budget_answers_503_and_the_least_recently_used_leaves()
    {
        Assert.Equal(["pinned"], await LoadedAsync());

        await InferOkAsync("m1");
        await InferOkAsync("m2");
        Assert.Equal(["m1", "m2", "pinned"], await LoadedAsync());

        while (_backend.Entered.Wait(0))
        {
            // forget the runs so far: the next two counted must be the held requests'
        }

        _backend.HeldModels!.UnionWith(["m1", "m2"]);
        _backend.Gate.Reset();
        var held = new[] { _server.Http.PostAsync("v2/models/m1/infer", AddSubRequests.Content()), _server.Http.PostAsync("v2/models/m2/infer", AddSubRequests.Content()) };
        await _backend.Entered.WaitAsync();
        await _backend.Entered.WaitAsync();

        using (var refused = await _server.Http.PostAsync("v2/models/m3/infer", AddSubRequests.Content()))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
            Assert.Equal("1", refused.Headers.RetryAfter?.ToString());
            Assert.Contains("held by models that are serving requests", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        using (var ready = await _server.Http.GetAsync("v2/health/ready"))
        {
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        }

        _backend.Gate.Set();
        foreach (var response in await Task.WhenAll(held))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            response.Dispose();
        }

        // The two held requests end together, in either order: one more for m2 makes m1 the least recently used.
        _backend.HeldModels.Clear();
        await InferOkAsync("m2");

        using (var client = new Turbine.Client.TurbineGrpcClient(new Uri($"http://127.0.0.1:{_server.Server.GrpcPort}")))
        {
            using var request = AddSubRequests.Create("m3");
            using var response = await client.InferAsync(request);
            Assert.Equal([2, 3, 4, 5], response.Outputs[0].ToArray<int>());
        }

        Assert.Equal(["m2", "m3", "pinned"], await LoadedAsync()); // m1 was used least recently
        var metrics = await _server.MetricsAsync();
        Assert.Contains("turbine_model_paging_loads_total 3", metrics, StringComparison.Ordinal);
        Assert.Contains("turbine_model_paging_evictions_total 1", metrics, StringComparison.Ordinal);
        Assert.Contains("turbine_model_paging_refusals_total 1", metrics, StringComparison.Ordinal);
        Assert.Contains("turbine_model_load_duration_seconds_count{model=\"m3\"} 1", metrics, StringComparison.Ordinal);
        Assert.Contains("turbine_model_load_duration_seconds_count{model=\"pinned\"} 1", metrics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Paging_settings_that_cannot_work_stop_the_start()
    {
        var error = await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(
            () => ServerFixture.StartAsync(_server.Folder.Root, options =>
            {
                options.ModelPaging.BudgetBytes = 1000;
                options.ModelPaging.Pinned = ["../etc"];
                options.ModelControlMode = ModelControlMode.Poll;
            }));

        Assert.Contains(error.Failures, f => f.Contains("the poll model control mode loads every model", StringComparison.Ordinal));
        Assert.Contains(error.Failures, f => f.Contains("'../etc' is not a valid model name", StringComparison.Ordinal));
    }

    private async Task InferOkAsync(string model)
    {
        using var response = await _server.Http.PostAsync($"v2/models/{model}/infer", AddSubRequests.Content());
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    /// <summary>The models the repository index lists as ready, by name.</summary>
    private async Task<string[]> LoadedAsync()
    {
        using var response = await _server.SendAsync(HttpMethod.Post, "v2/repository/index", """{"ready": true}""");
        var index = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        return [.. index.EnumerateArray().Select(entry => entry.GetProperty("name").GetString()!).Order(StringComparer.Ordinal)];
    }
}
