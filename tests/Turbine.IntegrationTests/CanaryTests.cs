using System.Net;
using System.Text;
using System.Text.Json;
using Turbine.Client;
using Turbine.Onnx.Tools;
using Turbine.Tests;

namespace Turbine.IntegrationTests;

/// <summary>Canary rollouts on a real server: steps advance under healthy traffic, a failing canary is rolled back by itself, operators steer it.</summary>
public sealed class CanaryTests : IAsyncDisposable
{
    private const string Rollout = """
        {"variants":[{"model":"stable"},{"model":"next"}],
         "canary":{"steps":[20,50,100],"min_step_duration_s":0,"min_step_requests":30,"max_error_rate":0.05}}
        """;

    private readonly GatedBackend _backend = new();
    private readonly FolderServer _server = new();

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task A_canary_that_starts_failing_is_rolled_back_at_once_and_the_audit_log_says_why()
    {
        await StartAsync();
        await PutRouteAsync(Rollout);

        var sent = await SendUntilAsync(status => status.GetProperty("step").GetInt32() == 2, limit: 3000);
        Assert.Equal(50, (await StatusAsync()).GetProperty("canary_percent").GetDouble());
        Assert.InRange(sent, 30, 3000);

        _backend.ThrowingModels.Add("next"); // the canary starts failing
        await SendUntilAsync(status => status.GetProperty("state").GetString() == "rolled_back", limit: 200);

        var variants = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < 50; i++)
        {
            using var response = await InferAsync();
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            variants.Add(response.Headers.GetValues("Turbine-Variant").Single());
        }

        Assert.Equal(["stable"], variants);
        var rollback = (await StatusAsync()).GetProperty("decisions").EnumerateArray().Last();
        Assert.Equal(("rollback", "gate", 50.0, 0.0), (rollback.GetProperty("action").GetString(), rollback.GetProperty("actor").GetString(),
            rollback.GetProperty("from_percent").GetDouble(), rollback.GetProperty("to_percent").GetDouble()));
        Assert.StartsWith("error rate", rollback.GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.True(rollback.GetProperty("figures").GetProperty("errors").GetInt64() >= 3);

        var audit = File.ReadAllLines(Path.Combine(_server.Folder.Root, ".turbine", "canary-audit", "checkout.jsonl"));
        Assert.Equal(["start", "promote", "rollback"], audit.Select(line => JsonDocument.Parse(line).RootElement.GetProperty("action").GetString()));

        using var metrics = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{_server.Server.MetricsPort}/") };
        var text = await metrics.GetStringAsync("metrics");
        Assert.Contains("turbine_canary_state{route=\"checkout\",state=\"rolled_back\"} 1", text, StringComparison.Ordinal);
        Assert.Contains("turbine_canary_decisions_total{route=\"checkout\",action=\"rollback\"} 1", text, StringComparison.Ordinal);
        Assert.Contains("turbine_canary_weight_percent{route=\"checkout\"} 0", text, StringComparison.Ordinal);

        var cli = await CliProcess.RunAsync("routes", "canary", "checkout", "--url", _server.Http.BaseAddress!.ToString());
        Assert.Contains("checkout: rolled_back, step 2 of 3, canary 0%", cli, StringComparison.Ordinal);
        Assert.Contains("rollback  gate      50 -> 0", cli, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Operators_pause_promote_and_roll_back_over_rest_and_the_cli_and_a_finished_rollout_answers_409()
    {
        await StartAsync();
        await PutRouteAsync(Rollout);
        var url = _server.Http.BaseAddress!.ToString();

        Assert.Contains("checkout: paused, step 1 of 3, canary 20%", await CliProcess.RunAsync("routes", "canary", "checkout", "pause", "--url", url), StringComparison.Ordinal);
        await SendAsync(300);
        Assert.Equal(1, (await StatusAsync()).GetProperty("step").GetInt32()); // paused: the gates do not move it

        using (var promote = await _server.Http.PostAsync("v2/routes/checkout/canary/promote", Json("""{"reason":"dashboards look fine"}""")))
        {
            Assert.Equal(HttpStatusCode.OK, promote.StatusCode);
            using var status = JsonDocument.Parse(await promote.Content.ReadAsStringAsync());
            Assert.Equal(("running", 50.0), (status.RootElement.GetProperty("state").GetString(), status.RootElement.GetProperty("canary_percent").GetDouble()));
            Assert.Equal("dashboards look fine", status.RootElement.GetProperty("decisions").EnumerateArray().Last().GetProperty("reason").GetString());
        }

        var rolledBack = await CliProcess.RunAsync("routes", "canary", "checkout", "rollback", "--reason", "latency alarm", "--url", url);
        Assert.Contains("rollback  operator  50 -> 0      latency alarm", rolledBack, StringComparison.Ordinal);

        using var refused = await _server.Http.PostAsync("v2/routes/checkout/canary/promote", null);
        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.Contains("rolled_back", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        using var unknown = await _server.Http.PostAsync("v2/routes/checkout/canary/explode", null);
        Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
        using var badBody = await _server.Http.PostAsync("v2/routes/checkout/canary/pause", Json("""{"reason":7}"""));
        Assert.Equal(HttpStatusCode.BadRequest, badBody.StatusCode);

        await PutRouteAsync("""{"variants":[{"model":"stable"}]}""");
        using var none = await _server.Http.GetAsync("v2/routes/checkout/canary");
        Assert.Equal(HttpStatusCode.NotFound, none.StatusCode);
    }

    private async Task StartAsync()
    {
        _server.Folder.Add("stable", SampleModels.AddSub(DataType.Int32, 4)).Add("next", SampleModels.AddSub(DataType.Int32, 4));
        await _server.StartAsync(backend: _backend);
    }

    /// <summary>Sends requests until the rollout's status satisfies <paramref name="done"/>; returns how many it took.</summary>
    private async Task<int> SendUntilAsync(Func<JsonElement, bool> done, int limit)
    {
        for (var sent = 0; sent < limit; sent += 10)
        {
            if (done(await StatusAsync()))
            {
                return sent;
            }

            await SendAsync(10);
        }

        Assert.Fail($"the rollout did not get there within {limit} requests: {await StatusAsync()}");
        return limit;
    }

    private async Task SendAsync(int count)
    {
        for (var i = 0; i < count; i++)
        {
            using var response = await InferAsync();
        }
    }

    private Task<HttpResponseMessage> InferAsync() => _server.Http.PostAsync("v2/models/checkout/infer", AddSubRequests.Content());

    private async Task<JsonElement> StatusAsync()
    {
        using var document = JsonDocument.Parse(await _server.Http.GetStringAsync("v2/routes/checkout/canary"));
        return document.RootElement.Clone();
    }

    private async Task PutRouteAsync(string json)
    {
        using var response = await _server.Http.PutAsync("v2/routes/checkout", Json(json));
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");
}
