using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using Turbine.Client;
using Turbine.Onnx.Tools;
using Turbine.Tests;

namespace Turbine.IntegrationTests;

/// <summary>
/// Two real servers sharing one real PostgreSQL behave as one service: what is set through one serves on the other,
/// a canary is judged once on the figures of both, feedback counts wherever the request was served, and a database
/// that goes away stops no inference.
/// </summary>
public sealed class ReplicaTests(Xunit.Abstractions.ITestOutputHelper output) : IAsyncLifetime
{
    private const string KeepTwo = """{ "max_batch_size": 8, "version_policy": { "latest": { "num_versions": 2 } } }""";

    /// <summary>How long a change may take to reach the other replica here (LISTEN/NOTIFY takes milliseconds; CI machines are slow).</summary>
    private static readonly TimeSpan Propagation = TimeSpan.FromSeconds(10);

    private readonly FolderServer _a = new();
    private readonly FolderServer _b = new();
    private PostgresServer _postgres = null!;

    public async Task InitializeAsync()
    {
        _postgres = await PostgresServer.StartAsync();
        foreach (var (server, replica) in new[] { (_a, "replica-a"), (_b, "replica-b") })
        {
            server.Folder
                .Add("simple", SampleModels.AddSub(DataType.Int32, 4), KeepTwo).Add("simple", SampleModels.AddSub(DataType.Int32, 4), version: 2)
                .Add("stable", SampleModels.AddSub(DataType.Int32, 4)).Add("next", SampleModels.AddSub(DataType.Int32, 4));
            await server.StartAsync(options =>
            {
                options.StatePostgres = _postgres.ConnectionString;
                options.ReplicaId = replica;
                options.StateSyncInterval = TimeSpan.FromMilliseconds(200);
            });
        }
    }

    public async Task DisposeAsync()
    {
        await _a.DisposeAsync();
        await _b.DisposeAsync();
        await _postgres.DisposeAsync();
    }

    [Fact]
    public async Task Routes_pipelines_labels_and_default_versions_set_through_one_replica_serve_on_the_other()
    {
        var clock = Stopwatch.StartNew();
        await PutAsync(_a, "v2/routes/checkout", """{"variants":[{"model":"simple","version":"1"}]}""");
        await EventuallyAsync(async () => (await InferAsync(_b, "checkout")).StatusCode == HttpStatusCode.OK);
        var routeDelay = clock.Elapsed;

        var clientA = new TurbineHttpClient(_a.Http);
        var clientB = new TurbineHttpClient(_b.Http);
        await clientA.SetLabelAsync("simple", "stable", 1);
        await clientA.SetDefaultVersionAsync("simple", 1);
        await EventuallyAsync(async () => (await clientB.GetServingAsync("simple")) is { DefaultVersion: 1 } view && view.Labels.GetValueOrDefault("stable") == 1);
        using (var answer = await clientB.InferAsync(AddSubRequests.Create("simple")))
        {
            Assert.Equal("1", answer.ModelVersion);
        }

        await PutAsync(_a, "v2/pipelines/twice", """
            {"steps":[{"name":"first","model":"simple","input_map":{"INPUT0":"INPUT0","INPUT1":"INPUT1"},"output_map":{"OUTPUT0":"OUTPUT0","OUTPUT1":"OUTPUT1"}}]}
            """);
        await EventuallyAsync(async () => (await InferAsync(_b, "twice")).StatusCode == HttpStatusCode.OK);

        using (var delete = await _a.Http.DeleteAsync("v2/routes/checkout"))
        {
            Assert.Equal(HttpStatusCode.OK, delete.StatusCode);
        }

        await EventuallyAsync(async () => (await InferAsync(_b, "checkout")).StatusCode == HttpStatusCode.NotFound);
        output.WriteLine($"a route set on one replica served on the other after {routeDelay.TotalMilliseconds:F0} ms");
        Assert.True(routeDelay < Propagation, $"the route took {routeDelay} to reach the other replica");
    }

    [Fact]
    public async Task A_canary_is_judged_once_for_the_service_on_the_figures_of_both_replicas_and_has_one_audit_log()
    {
        await PutAsync(_a, "v2/routes/checkout", """
            {"variants":[{"model":"stable"},{"model":"next"}],"sticky_header":"X-User",
             "canary":{"steps":[50,100],"min_step_duration_s":0,"min_step_requests":20,"max_error_rate":0.5}}
            """);
        await EventuallyAsync(async () => (await CanaryAsync(_b)).GetProperty("canary_percent").GetDouble() == 50);

        // Paused, requests count nowhere: find 15 users whom the sticky hash sends to the canary at 50%.
        await PostAsync(_a, "v2/routes/checkout/canary/pause", "{}");
        await EventuallyAsync(async () => (await CanaryAsync(_b)).GetProperty("state").GetString() == "paused");
        var canaryUsers = new List<string>();
        for (var user = 0; canaryUsers.Count < 15; user++)
        {
            using var response = await InferAsync(_a, "checkout", "u" + user);
            if (response.Headers.GetValues("Turbine-Variant").Single() == "next")
            {
                canaryUsers.Add("u" + user);
            }
        }

        await PostAsync(_a, "v2/routes/checkout/canary/resume", "{}");
        await EventuallyAsync(async () => (await CanaryAsync(_b)).GetProperty("state").GetString() == "running");

        // 15 canary requests on each replica: under the step's 20 on either, over it together.
        foreach (var server in new[] { _a, _b })
        {
            foreach (var user in canaryUsers)
            {
                using var response = await InferAsync(server, "checkout", user);
                Assert.Equal("next", response.Headers.GetValues("Turbine-Variant").Single());
            }
        }

        await EventuallyAsync(async () => (await CanaryAsync(_a)).GetProperty("canary_percent").GetDouble() == 100 && (await CanaryAsync(_b)).GetProperty("canary_percent").GetDouble() == 100);

        var audit = (await _postgres.QueryAsync("SELECT body FROM turbine_state_log WHERE log = 'canary-audit/checkout' ORDER BY seq"))
            .Select(line => JsonDocument.Parse(line).RootElement).ToList();
        Assert.Equal(["start", "pause", "resume", "promote"], audit.Select(d => d.GetProperty("action").GetString()));
        var judged = audit[^1].GetProperty("figures").GetProperty("requests").GetInt64();
        Assert.InRange(judged, 20, 30); // more than either replica counted alone: the leader added the other's figures
        Assert.True(judged > 15, $"the leader judged on {judged} canary requests");
        Assert.Equal("promote", (await CanaryAsync(_b)).GetProperty("decisions").EnumerateArray().Last().GetProperty("action").GetString());

        // Exactly one replica leads; when it goes, the other takes over.
        var leaders = new[] { await LeaderAsync(_a), await LeaderAsync(_b) };
        Assert.Equal(1, leaders.Sum());
        var (gone, stays) = leaders[0] == 1 ? (_a, _b) : (_b, _a);
        await gone.Server.StopAsync();
        await EventuallyAsync(async () => await LeaderAsync(stays) == 1);
    }

    [Fact]
    public async Task Feedback_posted_to_one_replica_counts_for_the_request_the_other_served()
    {
        await PutAsync(_a, "v2/routes/shop", """{"variants":[{"model":"stable","weight":50},{"model":"next","weight":50}]}""");
        await EventuallyAsync(async () => (await InferAsync(_b, "shop")).StatusCode == HttpStatusCode.OK);

        using var served = await _a.Http.PostAsync("v2/models/shop/infer", new StringContent("""{"id":"order-17",""" + AddSubRequests.Json[1..], Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        var variant = served.Headers.GetValues("Turbine-Variant").Single();

        await PostAsync(_b, "v2/models/shop/feedback", """{"request_id":"order-17","converted":true}""");

        await EventuallyAsync(async () =>
        {
            using var report = JsonDocument.Parse(await _b.Http.GetStringAsync("v2/routes/shop/report"));
            var arm = report.RootElement.GetProperty("arms").EnumerateArray().Single(a => a.GetProperty("variant").GetString() == variant);
            return arm.GetProperty("conversions").GetProperty("successes").GetInt64() == 1;
        });
    }

    [Fact]
    public async Task With_postgres_down_models_serve_changes_are_refused_with_503_and_counted_and_all_resumes_when_it_returns()
    {
        await PutAsync(_a, "v2/routes/shop", """{"variants":[{"model":"stable","weight":50},{"model":"next","weight":50}]}""");
        await _postgres.StopAsync();

        for (var i = 0; i < 20; i++)
        {
            using var response = await InferAsync(_a, i % 2 == 0 ? "simple" : "shop");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        using (var refused = await _a.Http.PutAsync("v2/routes/late", Json("""{"variants":[{"model":"stable"}]}""")))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
            Assert.Equal("""{"error":"the state store cannot be written now; nothing was changed, try again"}""", await refused.Content.ReadAsStringAsync());
        }

        using var metrics = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{_a.Server.MetricsPort}/") };
        await EventuallyAsync(async () => !(await metrics.GetStringAsync("metrics")).Contains("turbine_state_store_errors_total 0\n", StringComparison.Ordinal));

        await _postgres.RestartAsync();
        await EventuallyAsync(async () =>
        {
            using var retry = await _a.Http.PutAsync("v2/routes/late", Json("""{"variants":[{"model":"stable"}]}"""));
            return retry.StatusCode == HttpStatusCode.OK;
        });
        await EventuallyAsync(async () => (await InferAsync(_b, "late")).StatusCode == HttpStatusCode.OK);
    }

    [Fact]
    public async Task Names_and_bodies_that_look_like_sql_are_stored_verbatim_and_never_executed()
    {
        await using var store = new Server.State.PostgresStateStore(
            _postgres.ConnectionString, "sql-probe", TimeProvider.System, Microsoft.Extensions.Logging.Abstractions.NullLogger<Server.State.PostgresStateStore>.Instance);
        foreach (var name in new[] { "a'; DROP TABLE turbine_state; --", "x\" OR 1=1 --", "%_%", "../../etc/passwd", "$1; SELECT pg_sleep(10)" })
        {
            await StoredVerbatimAsync(store, name);
        }
    }

    private async Task StoredVerbatimAsync(Server.State.PostgresStateStore store, string name)
    {
        var body = Encoding.UTF8.GetBytes("{\"v\":\"" + name.Replace("\"", "\\\"", StringComparison.Ordinal) + "\"}");

        store.Put("routes", name, body);
        store.Append("feedback/" + name, body);

        Assert.Equal(body, store.Find("routes", name));
        Assert.Contains(store.List("routes"), d => d.Name == name);
        Assert.Equal(body, store.ReadLog("feedback/" + name, 0, 10).Single().Body);
        Assert.Null(store.Find("routes", "%"));
        Assert.Equal(["turbine_state", "turbine_state_log"], await _postgres.QueryAsync("SELECT tablename FROM pg_tables WHERE tablename LIKE 'turbine%' ORDER BY 1"));
    }

    [Fact]
    public async Task A_name_postgres_cannot_store_is_a_state_store_error_not_a_crash()
    {
        await using var store = new Server.State.PostgresStateStore(
            _postgres.ConnectionString, "nul-probe", TimeProvider.System, Microsoft.Extensions.Logging.Abstractions.NullLogger<Server.State.PostgresStateStore>.Instance);

        Assert.Throws<Core.State.StateStoreException>(() => store.Put("routes", "a\0b", "{}"u8));
        store.Put("routes", "fine", "{}"u8);
        Assert.NotNull(store.Find("routes", "fine"));
    }

    private static async Task<HttpResponseMessage> InferAsync(FolderServer server, string model, string? user = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"v2/models/{model}/infer") { Content = AddSubRequests.Content() };
        if (user is not null)
        {
            request.Headers.Add("X-User", user);
        }

        return await server.Http.SendAsync(request);
    }

    private static async Task<JsonElement> CanaryAsync(FolderServer server) =>
        JsonDocument.Parse(await server.Http.GetStringAsync("v2/routes/checkout/canary")).RootElement;

    private static async Task<int> LeaderAsync(FolderServer server)
    {
        using var metrics = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{server.Server.MetricsPort}/") };
        return (await metrics.GetStringAsync("metrics")).Contains("turbine_state_store_leader 1\n", StringComparison.Ordinal) ? 1 : 0;
    }

    private static async Task PutAsync(FolderServer server, string path, string json)
    {
        using var response = await server.Http.PutAsync(path, Json(json));
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
    }

    private static async Task PostAsync(FolderServer server, string path, string json)
    {
        using var response = await server.Http.PostAsync(path, Json(json));
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
    }

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    /// <summary>Asks the replicas until <paramref name="condition"/> holds: their state is the only signal a client has.</summary>
    private static async Task EventuallyAsync(Func<Task<bool>> condition)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(clock.Elapsed < Propagation, "the replicas did not agree in time");
            await Task.Delay(50);
        }
    }
}
