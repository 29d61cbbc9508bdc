using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using Turbine.Core.State;
using Turbine.Tests;
using Turbine.Traffic;
using Turbine.Traffic.Canary;

namespace Turbine.Traffic.Tests;

/// <summary>Canary rollouts on a fake clock: steps, gates, rollback, manual commands, the audit log and restarts.</summary>
public sealed class CanaryRolloutTests : IDisposable
{
    private static readonly TimeSpan Fast = TimeSpan.FromMilliseconds(2);
    private readonly TestRepository _files = new();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 30, 12, 0, 0, TimeSpan.Zero));

    public void Dispose() => _files.Dispose();

    private string Folder => Path.Combine(_files.Root, "state");

    [Fact]
    public void Healthy_steps_pass_their_gates_one_after_another_until_the_canary_takes_all_traffic()
    {
        var table = new RouteTable(new FileStateStore(Folder), _time);
        table.Set(Route(new CanaryPlan([10, 50], MinStepSeconds: 30, MinStepRequests: 20, MaxErrorRate: 0.05, MaxP99Milliseconds: 50, MaxDisagreement: null)));
        Assert.True(table.TryGet("r", out var route));
        var rollout = route.Canary!;
        Assert.Equal(10, route.Weight(1));
        Assert.Equal(90, route.Weight(0));

        Serve(rollout, canary: 40, baseline: 100);
        Assert.Equal(0, rollout.Step); // enough requests, but the step has not lasted its 30 s

        _time.Advance(TimeSpan.FromSeconds(31));
        Serve(rollout, canary: 1, baseline: 0);
        Assert.Equal((CanaryState.Running, 1, 50.0), (rollout.State, rollout.Step, route.Weight(1)));
        Assert.Equal(0, rollout.Figures().Requests); // a new step starts with fresh figures

        _time.Advance(TimeSpan.FromSeconds(31));
        Serve(rollout, canary: 20, baseline: 20);
        Assert.Equal(CanaryState.Promoted, rollout.State);
        Assert.Equal((0.0, 100.0), (route.Weight(0), route.Weight(1)));
        Assert.Equal(["start", "promote", "complete"], rollout.History.Select(d => d.Action));
        Assert.Contains("error rate 0.0%", rollout.History[^1].Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_failing_canary_is_rolled_back_after_a_handful_of_errors_and_the_audit_log_says_why()
    {
        var table = new RouteTable(new FileStateStore(Folder), _time);
        table.Set(Route(new CanaryPlan([5, 25, 100], 60, 1000, MaxErrorRate: 0.02, null, null)));
        table.TryGet("r", out var route);
        var rollout = route.Canary!;
        Serve(rollout, canary: 50, baseline: 900);

        var failures = 0;
        while (rollout.State == CanaryState.Running && failures < 100)
        {
            rollout.Observe(1, failed: true, Fast);
            failures++;
        }

        Assert.Equal(CanaryState.RolledBack, rollout.State);
        Assert.InRange(failures, 3, 10); // clear evidence, long before the step's 1000 requests
        Assert.Equal((100.0, 0.0), (route.Weight(0), route.Weight(1)));

        var lines = File.ReadAllLines(Path.Combine(Folder, "canary-audit", "r.jsonl"));
        using var last = JsonDocument.Parse(lines[^1]);
        Assert.Equal("rollback", last.RootElement.GetProperty("action").GetString());
        Assert.Equal("gate", last.RootElement.GetProperty("actor").GetString());
        Assert.Equal(5, last.RootElement.GetProperty("from_percent").GetDouble());
        Assert.Equal(0, last.RootElement.GetProperty("to_percent").GetDouble());
        Assert.StartsWith("error rate", last.RootElement.GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.Equal(failures, last.RootElement.GetProperty("figures").GetProperty("errors").GetInt64());
        Assert.Equal(900, last.RootElement.GetProperty("figures").GetProperty("baseline_requests").GetInt64());
    }

    [Fact]
    public void A_rollback_whose_journal_write_fails_still_takes_the_canary_out_and_is_journaled_once_the_disk_is_back()
    {
        var table = new RouteTable(new FileStateStore(Folder), _time);
        table.Set(Route(new CanaryPlan([5, 25, 100], 60, 1000, MaxErrorRate: 0.02, null, null)));
        table.TryGet("r", out var route);
        var rollout = route.Canary!;
        var audit = Path.Combine(Folder, "canary-audit", "r.jsonl");
        File.Delete(audit);
        Directory.CreateDirectory(audit); // the journal can no longer be appended to (as on a full or read-only disk)

        rollout.Control("rollback", "by hand");

        Assert.Equal(CanaryState.RolledBack, rollout.State);
        Assert.Equal((100.0, 0.0), (route.Weight(0), route.Weight(1))); // in effect at once
        Assert.Equal(1, rollout.Unjournaled);
        Assert.True(rollout.JournalFailures >= 1);
        Assert.Equal(1, table.Checkpoint().Failed); // still failing: counted, not thrown

        Directory.Delete(audit);
        Assert.Equal(0, table.Checkpoint().Failed);

        Assert.Equal(0, rollout.Unjournaled);
        using var last = JsonDocument.Parse(File.ReadAllLines(audit)[^1]);
        Assert.Equal("rollback", last.RootElement.GetProperty("action").GetString());
    }

    [Fact]
    public void A_few_errors_among_many_requests_do_not_roll_back_a_canary_within_its_limit()
    {
        var rollout = Rollout(new CanaryPlan([5, 100], 0, 400, MaxErrorRate: 0.05, null, null));
        for (var i = 0; i < 399; i++)
        {
            rollout.Observe(1, failed: i % 50 == 7, Fast); // 2%: under the 5% limit, with unlucky streaks of evaluation
        }

        Assert.Equal((CanaryState.Running, 0), (rollout.State, rollout.Step));
        rollout.Observe(1, failed: false, Fast);
        Assert.Equal(1, rollout.Step);
    }

    [Fact]
    public void A_slow_canary_fails_the_p99_gate_once_the_step_has_its_requests()
    {
        var rollout = Rollout(new CanaryPlan([10, 100], 0, 100, null, MaxP99Milliseconds: 20, null));
        for (var i = 0; i < 99; i++)
        {
            rollout.Observe(1, failed: false, i % 10 == 0 ? TimeSpan.FromMilliseconds(80) : Fast); // 10% slow: p99 is 80 ms
        }

        Assert.Equal(CanaryState.Running, rollout.State); // a p99 over 99 requests is not judged
        rollout.Observe(1, failed: false, Fast);

        Assert.Equal(CanaryState.RolledBack, rollout.State);
        Assert.StartsWith("p99 latency", rollout.History[^1].Reason, StringComparison.Ordinal);
        Assert.InRange(rollout.History[^1].Figures.P99Milliseconds, 80, 80 * 1.1);
    }

    [Fact]
    public void Operators_pause_resume_promote_and_roll_back_and_a_finished_rollout_refuses_more()
    {
        var rollout = Rollout(new CanaryPlan([5, 25, 50], 0, 10, MaxErrorRate: 0.5, null, null));

        Assert.Null(rollout.Control("pause", "looking at dashboards"));
        Serve(rollout, canary: 50, baseline: 0);
        Assert.Equal((CanaryState.Paused, 0), (rollout.State, rollout.Step)); // paused: no automatic promotion
        Assert.Equal(StatusCode.FailedPrecondition, rollout.Control("pause", null)!.Code);

        Assert.Null(rollout.Control("promote", null));
        Assert.Equal((CanaryState.Running, 1, 25.0), (rollout.State, rollout.Step, rollout.CanaryPercent));
        Assert.Null(rollout.Control("rollback", "customer complaint"));
        Assert.Equal(0, rollout.CanaryPercent);

        Assert.Equal(StatusCode.FailedPrecondition, rollout.Control("promote", null)!.Code);
        Assert.Equal(StatusCode.InvalidArgument, rollout.Control("explode", null)!.Code);
        Assert.Equal(["start", "pause", "promote", "rollback"], rollout.History.Select(d => d.Action));
        Assert.Equal(("operator", "customer complaint"), (rollout.History[^1].Actor, rollout.History[^1].Reason));
        Assert.Contains(new KeyValuePair<string, long>("rollback", 1), rollout.DecisionCounts);
    }

    [Fact]
    public void A_restarted_server_resumes_the_rollout_where_it_was_and_setting_the_route_again_starts_over()
    {
        var plan = new CanaryPlan([5, 25, 50], 0, 10, null, null, null);
        var first = new RouteTable(new FileStateStore(Folder), _time);
        first.Set(Route(plan));
        first.TryGet("r", out var before);
        before.Canary!.Control("promote", null);

        var restarted = new RouteTable(new FileStateStore(Folder), _time);
        restarted.TryGet("r", out var after);
        Assert.Equal((1, 25.0), (after.Canary!.Step, after.Weight(1)));
        Assert.Equal("restore", after.Canary.History[^1].Action);

        restarted.Set(Route(plan));
        restarted.TryGet("r", out var reset);
        Assert.Equal((0, 5.0), (reset.Canary!.Step, reset.Weight(1)));
        Assert.Equal(4, File.ReadAllLines(Path.Combine(Folder, "canary-audit", "r.jsonl")).Length); // start, promote, restore, start

        Assert.True(restarted.Remove("r"));
        Assert.False(File.Exists(Path.Combine(Folder, "canary", "r.json")));
    }

    [Fact]
    public void Disagreement_counts_only_the_shadow_comparisons_of_the_current_step()
    {
        var plan = new CanaryPlan([10, 100], 0, 1000, null, null, MaxDisagreement: 0.1);
        var shadow = new ShadowFigures(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
        var rollout = new CanaryRollout("r", plan, _time, null, RouteStart.Fresh, _ => { }, () => shadow);

        shadow = shadow with { Compared = 500, ExactMatches = 100 }; // outputs differ, but top-1 classes agree
        shadow = shadow with { Top1Compared = 500, Top1Agreed = 498 };
        Assert.Equal((500L, 2L), (rollout.Figures().Compared, rollout.Figures().Disagreed));
        rollout.Judge();
        Assert.Equal(CanaryState.Running, rollout.State);

        shadow = shadow with { Top1Compared = 600, Top1Agreed = 498 }; // 17%: clearly over 10% even before the step is over
        rollout.Judge();
        Assert.Equal(CanaryState.RolledBack, rollout.State);
        Assert.StartsWith("disagreement with the baseline", rollout.History[^1].Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"steps":[]}""")]
    [InlineData("""{"steps":[50,25]}""")]
    [InlineData("""{"steps":[0,100]}""")]
    [InlineData("""{"steps":[5,101]}""")]
    [InlineData("""{"steps":[5],"max_error_rate":1.5}""")]
    [InlineData("""{"steps":[5],"max_p99_ms":0}""")]
    [InlineData("""{"steps":[5],"min_step_requests":2.5}""")]
    [InlineData("""{"steps":[5],"min_step_duration_s":-1}""")]
    [InlineData("""{"steps":"5"}""")]
    public void Invalid_plans_are_refused_with_the_rules(string canary)
    {
        var json = $$"""{"variants":[{"model":"a","weight":1},{"model":"b","weight":0}],"canary":{{canary}}}""";
        var error = RouteJson.Read(Encoding.UTF8.GetBytes(json), "r", 16, out _);
        Assert.Equal(StatusCode.InvalidArgument, error!.Code);
        Assert.Contains("'canary' needs 'steps'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_canary_needs_exactly_two_variants_and_a_plan_survives_a_round_trip()
    {
        var three = """{"variants":[{"model":"a"},{"model":"b"},{"model":"c"}],"canary":{"steps":[5]}}""";
        Assert.Contains("exactly two variants", RouteJson.Read(Encoding.UTF8.GetBytes(three), "r", 16, out _)!.Message, StringComparison.Ordinal);

        var route = Route(new CanaryPlan([5, 25, 100], 120, 500, 0.01, 40, 0.02));
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            RouteJson.Write(writer, route);
        }

        Assert.Null(RouteJson.Read(stream.ToArray(), "r", 16, out var read));
        Assert.Equal(route.Canary!.Steps, read!.Canary!.Steps);
        Assert.Equal(route.Canary with { Steps = read.Canary.Steps }, read.Canary);
    }

    private static RouteDefinition Route(CanaryPlan plan) =>
        new("r", [new RouteVariant("stable", null, 100), new RouteVariant("next", null, 0)], Canary: plan);

    private CanaryRollout Rollout(CanaryPlan plan)
    {
        var table = new RouteTable(null, _time);
        table.Set(Route(plan));
        table.TryGet("r", out var route);
        return route.Canary!;
    }

    private static void Serve(CanaryRollout rollout, int canary, int baseline)
    {
        for (var i = 0; i < Math.Max(canary, baseline); i++)
        {
            if (i < canary)
            {
                rollout.Observe(1, failed: false, Fast);
            }

            if (i < baseline)
            {
                rollout.Observe(0, failed: false, Fast);
            }
        }
    }
}
