using System.Text.Json;
using Turbine.Monitoring.Quality;

namespace Turbine.Monitoring.Tests;

public sealed class QualityRulesTests
{
    [Fact]
    public void A_rejecting_rule_refuses_with_the_rule_and_the_value()
    {
        var rules = Compile("""{"rules":[{"feature":"x[1]","min":0,"max":10,"policy":"reject"}]}""");
        using var request = Request([1, 2, 3, 1, 12.5f, 3]);

        var error = rules.Screen(request, null);

        Assert.Equal(StatusCode.InvalidArgument, error!.Code);
        Assert.Equal("input 'x' row 1: 12.5 is outside [0, 10] (quality rule 'x[1]:range')", error.Message);
        Assert.Equal(1, rules.Checks[0].Broken);
    }

    [Fact]
    public void A_flagging_rule_counts_and_lets_the_request_through()
    {
        var rules = Compile("""{"rules":[{"feature":"colour","allowed":["red","blue"],"policy":"flag"}]}""");
        using var request = Request([1, 2, 3], "green");

        Assert.Null(rules.Screen(request, null));
        Assert.Equal(1, rules.Checks[0].Broken);
        Assert.Equal(1, rules.Checks[0].Checked);
    }

    [Fact]
    public void A_logging_rule_hands_the_break_to_the_log_and_lets_the_request_through()
    {
        var rules = Compile("""{"rules":[{"feature":"x","missing":"forbid","policy":"log"}]}""");
        using var request = Request([1, float.NaN, 3]);
        var logged = new List<string>();

        Assert.Null(rules.Screen(request, (check, detail) => logged.Add(detail)));
        Assert.Equal(["input 'x' element 1: NaN is missing (quality rule 'x:missing')"], logged);
    }

    [Fact]
    public void A_request_keeping_every_rule_passes_unchanged()
    {
        var rules = Compile("""{"rules":[{"feature":"x[0]","min":0,"max":10},{"feature":"colour","allowed":["red"]},{"feature":"x","missing":"forbid"}]}""");
        using var request = Request([1, 2, 3, 4, 5, 6], "red");

        Assert.Null(rules.Screen(request, null));
        Assert.All(rules.Checks, c => Assert.Equal(0, c.Broken));
    }

    [Fact]
    public void Rules_derived_from_the_profile_cover_ranges_categories_and_missing_values()
    {
        var profile = Synthetic.Profile(2000);
        var errors = new List<string>();
        var rules = QualityRules.Compile(Synthetic.Config, Synthetic.Layout, new QualitySettings { FromProfile = QualityPolicy.Reject, Tolerance = 0 }, profile, errors);

        Assert.Empty(errors);
        Assert.Contains(rules.Checks, c => c.Name == "x[1]:range" && c.Min == profile.Find("x[1]")!.Min);
        Assert.Contains(rules.Checks, c => c.Name == "colour:allowed" && c.Allowed.SequenceEqual(["blue", "red"]));
        Assert.Contains(rules.Checks, c => c.Name == "x[0]:missing");
        using var outside = Request([0, 100, 0.5f], "red");
        Assert.Contains("x[1]:range", rules.Screen(outside, null)!.Message, StringComparison.Ordinal);
        using var unknown = Request([0, 5, 0.5f], "purple");
        Assert.Contains("colour:allowed", rules.Screen(unknown, null)!.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"rules":[{"feature":"nope","min":0}]}""", "names no input")]
    [InlineData("""{"rules":[{"feature":"x","policy":"shout","min":0}]}""", "reject, flag or log")]
    [InlineData("""{"rules":[{"feature":"x"}]}""", "must set min, max, allowed")]
    [InlineData("""{"rules":[{"feature":"x","min":2,"max":1}]}""", "min is above max")]
    [InlineData("""{"from_profile":"flag"}""", "needs the version's reference profile")]
    public void Bad_rules_are_load_errors(string json, string expected)
    {
        var errors = new List<string>();
        using var document = JsonDocument.Parse(json);

        var settings = QualitySettings.Read(document.RootElement, errors);
        QualityRules.Compile(Synthetic.Config, Synthetic.Layout, settings, null, errors);

        Assert.Contains(errors, e => e.Contains(expected, StringComparison.Ordinal));
    }

    private static QualityRules Compile(string json)
    {
        var errors = new List<string>();
        using var document = JsonDocument.Parse(json);
        var rules = QualityRules.Compile(Synthetic.Config, Synthetic.Layout, QualitySettings.Read(document.RootElement, errors), null, errors);
        Assert.Empty(errors);
        return rules;
    }

    private static InferenceRequest Request(float[] x, string colour = "red")
    {
        var rows = x.Length / 3;
        var request = new InferenceRequest { ModelName = "clf" };
        request.Inputs.Add(Tensor.FromArray<float>("x", [rows, 3], x));
        request.Inputs.Add(Tensor.FromStrings("colour", [rows, 1], [.. Enumerable.Repeat(colour, rows)]));
        return request;
    }
}
