using System.Text;
using Turbine.Core.State;
using Turbine.Tests;
using Turbine.Traffic;

namespace Turbine.Traffic.Tests;

public sealed class RouteTableTests : IDisposable
{
    private readonly TestRepository _files = new();

    public void Dispose() => _files.Dispose();

    [Fact]
    public void Picks_follow_the_weights_within_statistical_tolerance()
    {
        var route = Compile(new RouteDefinition("r", [new RouteVariant("a", null, 80), new RouteVariant("b", "2", 20), new RouteVariant("off", null, 0)]));
        const int Draws = 20_000;

        var counts = new int[3];
        for (var i = 0; i < Draws; i++)
        {
            counts[route.Pick(null)]++;
        }

        // Binomial standard deviation of the 20% arm over 20,000 draws is 0.28 points; 4 sigma is about 1.2.
        Assert.InRange(counts[1] / (double)Draws, 0.188, 0.212);
        Assert.Equal(0, counts[2]);
        Assert.Equal(counts[0], route.Served(0));
    }

    [Fact]
    public void A_sticky_key_lands_in_the_same_arm_and_keys_spread_by_weight()
    {
        var route = Compile(new RouteDefinition("r", [new RouteVariant("a", null, 50), new RouteVariant("b", null, 50)], "user"));
        var arms = Enumerable.Range(0, 4000).Select(i => route.Pick("user-" + i)).ToArray();

        Assert.All(Enumerable.Range(0, 4000), i => Assert.Equal(arms[i], route.Pick("user-" + i)));
        Assert.InRange(arms.Count(a => a == 1) / 4000.0, 0.46, 0.54);
    }

    [Fact]
    public void Moving_weight_moves_only_the_keys_near_the_boundary()
    {
        var before = Compile(new RouteDefinition("r", [new RouteVariant("a", null, 95), new RouteVariant("b", null, 5)], "user"));
        var after = Compile(new RouteDefinition("r", [new RouteVariant("a", null, 75), new RouteVariant("b", null, 25)], "user"));
        var keys = Enumerable.Range(0, 4000).Select(i => "user-" + i).ToList();

        var moved = keys.Count(k => before.Pick(k) != after.Pick(k));

        Assert.All(keys.Where(k => before.Pick(k) == 1), k => Assert.Equal(1, after.Pick(k))); // canary users stay canary users
        Assert.InRange(moved / 4000.0, 0.16, 0.24);
    }

    [Fact]
    public void Routes_are_saved_and_read_back_and_deleted()
    {
        var folder = Path.Combine(_files.Root, "routes");
        var table = new RouteTable(new FileStateStore(folder));
        table.Set(new RouteDefinition("fraud", [new RouteVariant("a", "2", 90), new RouteVariant("b", "canary", 10)], "user_id", new ShadowTarget("c", null, 0.25)));

        var reopened = new RouteTable(new FileStateStore(folder));

        var route = Assert.Single(reopened.All);
        Assert.Equal("fraud", route.Name);
        Assert.Equal(["a:2", "b:canary"], route.Variants.Select(v => v.Name));
        Assert.Equal([90.0, 10.0], route.Variants.Select(v => v.Weight));
        Assert.Equal("user_id", route.StickyParameter);
        Assert.Equal(new ShadowTarget("c", null, 0.25), route.Shadow);
        Assert.True(reopened.Remove("fraud"));
        Assert.Empty(new RouteTable(new FileStateStore(folder)).All);
        Assert.False(reopened.Remove("fraud"));
    }

    [Theory]
    [InlineData("""{"variants":[]}""", "1 to 16 variants")]
    [InlineData("""{"variants":[{"model":"a","weight":0}]}""", "positive weight")]
    [InlineData("""{"variants":[{"model":"../a"}]}""", "valid 'model'")]
    [InlineData("""{"variants":[{"model":"a","weight":-1}]}""", "weight")]
    [InlineData("""{"variants":[{"model":"a","version":"../1"}]}""", "version number or a label")]
    [InlineData("""{"variants":[{"model":"a"},{"model":"a"}]}""", "more than once")]
    [InlineData("""{"name":"other","variants":[{"model":"a"}]}""", "another route")]
    [InlineData("""{"variants":[{"model":"a"}],"sticky_parameter":"a b"}""", "sticky_parameter")]
    [InlineData("""{"variants":[{"model":"a"}],"shadow":{"model":"b","share":2}}""", "'shadow'")]
    [InlineData("""{"variants":[{"model":"a"}],"shadow":{"share":0.5}}""", "'shadow'")]
    [InlineData("""[1]""", "JSON object")]
    [InlineData("""{"variants":""", "not valid JSON")]
    public void Invalid_routes_are_refused_with_the_reason(string json, string reason)
    {
        var error = RouteJson.Read(Encoding.UTF8.GetBytes(json), "r", 64, out var route);

        Assert.Null(route);
        Assert.Equal(StatusCode.InvalidArgument, error!.Code);
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_documented_resilience_example_reads_back_as_written()
    {
        const string Json = """
            {
              "variants": [ { "model": "fraud_v8", "weight": 1 } ],
              "resilience": {
                "timeout_ms": 200,                   // deadline of one attempt
                "retries": 1,
                "max_concurrency": 64,
                "circuit_breaker": { "failure_ratio": 0.5, "minimum_throughput": 10, "sampling_duration_s": 10, "break_duration_s": 5 },
                "fallback": [ { "model": "fraud_small" }, { "model": "fraud_v7", "version": "stable" } ]
              }
            }
            """;

        Assert.Null(RouteJson.Read(Encoding.UTF8.GetBytes(Json), "fraud", 64, out var route));

        var resilience = route!.Resilience!;
        Assert.Equal((200.0, 1, 64), (resilience.TimeoutMilliseconds, resilience.Retries, resilience.MaxConcurrency));
        Assert.Equal(new CircuitBreakerSettings(0.5, 10, 10, 5), resilience.CircuitBreaker);
        Assert.Equal(["fraud_small", "fraud_v7:stable"], resilience.Fallbacks.Select(f => f.Name));
        Assert.NotNull(RouteJson.Read(Encoding.UTF8.GetBytes("""{"variants":[{"model":"a"}],"resilience":{"retries":9}}"""), "r", 64, out _));
    }

    private static CompiledRoute Compile(RouteDefinition definition)
    {
        var table = new RouteTable(null);
        table.Set(definition);
        Assert.True(table.TryGet(definition.Name, out var route));
        return route;
    }

    [Fact]
    public void A_checkpoint_brings_the_experiment_back_after_a_restart_but_not_after_the_route_is_set_anew()
    {
        var folder = Path.Combine(_files.Root, "routes");
        var definition = new RouteDefinition("r", [new RouteVariant("a", null, 50), new RouteVariant("b", "2", 50)]);
        var first = new RouteTable(new FileStateStore(folder));
        first.Set(definition);
        first.TryGet("r", out var route);
        for (var i = 0; i < 100; i++)
        {
            var arm = route.Pick(null);
            route.Experiment.Arm(arm).AddConversion(i % 3 == 0);
            route.Experiment.Arm(arm).AddValue(i * 0.5);
        }

        first.Checkpoint();
        var restarted = new RouteTable(new FileStateStore(folder));
        restarted.TryGet("r", out var resumed);
        for (var i = 0; i < 2; i++)
        {
            Assert.Equal(route.Served(i), resumed.Served(i));
            Assert.Equal(route.Experiment.Arm(i).Snapshot(), resumed.Experiment.Arm(i).Snapshot());
        }

        restarted.Set(definition);
        restarted.TryGet("r", out var fresh);
        Assert.Equal((0L, 0L), (fresh.Served(0), fresh.Experiment.Arm(1).Snapshot().Trials));
        Assert.False(File.Exists(Path.Combine(folder, "experiments", "r", "local.json")));

        File.WriteAllText(Path.Combine(folder, "experiments", "r", "local.json"), """{"arms":[{"variant":"other"}]}""");
        Assert.True(new RouteTable(new FileStateStore(folder)).TryGet("r", out var unmatched)); // a checkpoint that does not fit is ignored
        Assert.Equal(0, unmatched.Served(0));
    }

    [Fact]
    public void A_shadow_steps_aside_while_the_process_uses_more_cpu_than_its_max_and_counts_what_it_shed()
    {
        var cpu = 0.95;
        var table = new RouteTable(null, cpuUtilization: () => cpu);
        table.Set(new RouteDefinition("r", [new RouteVariant("a", null, 1)], Shadow: new ShadowTarget("b", null, 1)));
        table.Set(new RouteDefinition("always", [new RouteVariant("a", null, 1)], Shadow: new ShadowTarget("b", null, 1, MaxCpu: 1)));
        table.TryGet("r", out var route);
        table.TryGet("always", out var always);

        Assert.False(route.ShouldMirror()); // 95% is over the default 90%
        Assert.True(always.ShouldMirror()); // max_cpu 1 never sheds
        cpu = 0.5;
        Assert.True(route.ShouldMirror());
        Assert.Equal((1L, 0L), (route.Shadow.Snapshot().Shed, always.Shadow.Snapshot().Shed));
    }
}
