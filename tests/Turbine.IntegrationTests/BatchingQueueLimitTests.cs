using System.Net;
using Turbine.Onnx.Tools;
using Turbine.Tests;

namespace Turbine.IntegrationTests;

/// <summary>
/// Queue bounds count the requests waiting inside a batching window: a request the batcher has taken but not yet
/// run is still waiting, so the one after the bound gets 503 at once instead of joining the wait.
/// </summary>
public sealed class BatchingQueueLimitTests : IAsyncDisposable
{
    private readonly FolderServer _server = new();

    public ValueTask DisposeAsync() => _server.DisposeAsync();

    [Theory]
    [InlineData("\"max_queue_size\": 2")]
    [InlineData("\"default_queue_policy\": { \"max_queue_size\": 2 }")]
    public async Task The_request_past_the_bound_is_refused_while_the_window_holds_the_others(string bound)
    {
        // A 3 s window: the two admitted requests wait in it until it ends (the batch wants 8), long after the third is refused.
        var topLevel = bound.StartsWith("\"max_queue_size\"", StringComparison.Ordinal);
        var batching = $$"""{ "max_queue_delay_microseconds": 3000000, "preferred_batch_size": [8]{{(topLevel ? "" : ", " + bound)}} }""";
        _server.Folder.Add("slow_window", SampleModels.AddSub(DataType.Int32, 4),
            $$"""{ "max_batch_size": 8, {{(topLevel ? bound + ", " : "")}}"dynamic_batching": {{batching}} }""");
        await _server.StartAsync();

        var first = PostAsync();
        var second = PostAsync();
        await WaitUntilHeldAsync(2);
        using var third = await PostAsync();

        Assert.Equal(HttpStatusCode.ServiceUnavailable, third.StatusCode);
        Assert.Contains("queue", await third.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.False(first.IsCompleted || second.IsCompleted); // refused while the other two still wait in the window
        Assert.Equal(HttpStatusCode.OK, (await first).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await second).StatusCode);
    }

    private Task<HttpResponseMessage> PostAsync() => _server.Http.PostAsync("v2/models/slow_window/infer", AddSubRequests.Content());

    /// <summary>Waits for the statistics to show <paramref name="count"/> requests pending in the model.</summary>
    private async Task WaitUntilHeldAsync(int count)
    {
        var inference = (Turbine.Traffic.InferenceService)_server.Server.Services.GetService(typeof(Turbine.Traffic.InferenceService))!;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            inference.Statistics("slow_window", null, out var models);
            if (models.Sum(m => m.QueuedRequests + m.ExecutingRequests) >= count || clock.Elapsed > TimeSpan.FromSeconds(10))
            {
                return;
            }

            await Task.Delay(10); // the scheduler has no event to await from outside; its counters are the witness
        }
    }
}
