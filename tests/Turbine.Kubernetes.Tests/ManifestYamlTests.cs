using System.Text.Json;
using System.Text.Json.Nodes;
using Turbine.Kubernetes.Cluster;

namespace Turbine.Kubernetes.Tests;

public sealed class ManifestYamlTests
{
    [Fact]
    public void Plain_scalars_read_as_numbers_booleans_and_null_and_quoted_ones_stay_strings()
    {
        var item = ManifestYaml.Read("a: 2\nb: '2'\nc: 2.5\nd: true\ne: \"true\"\nf: ~\ng: 500m\nh: [1, x]\n").Single();

        Assert.Equal(JsonValueKind.Number, item["a"]!.GetValueKind());
        Assert.Equal("2", (string?)item["b"]);
        Assert.Equal(2.5, (double)item["c"]!);
        Assert.True((bool)item["d"]!);
        Assert.Equal("true", (string?)item["e"]);
        Assert.Null(item["f"]);
        Assert.Equal("500m", (string?)item["g"]);
        Assert.Equal(2, item["h"]!.AsArray().Count);
    }

    [Fact]
    public void Written_yaml_reads_back_to_the_same_objects_with_strings_that_look_like_numbers_kept_strings()
    {
        var items = new[]
        {
            new JsonObject { ["kind"] = "A", ["count"] = 3, ["quantity"] = "8", ["flag"] = "true", ["gone"] = null, ["list"] = new JsonArray(1.5, "x") },
            new JsonObject { ["kind"] = "B" },
        };

        var back = ManifestYaml.Read(ManifestYaml.Write(items));

        Assert.Equal(2, back.Count);
        Assert.Equal("8", (string?)back[0]["quantity"]);
        Assert.Equal("true", (string?)back[0]["flag"]);
        Assert.Equal(3, (long)back[0]["count"]!);
        Assert.False(back[0].ContainsKey("gone")); // null is absence
        Assert.Equal(1.5, (double)back[0]["list"]![0]!);
    }

    [Fact]
    public void Aliases_that_would_expand_past_the_value_budget_are_refused()
    {
        // Each level repeats the one before ten times: 10^6 values from nine lines.
        var bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + string.Join('\n', Enumerable.Range(1, 6).Select(i =>
            $"{(char)('a' + i)}: &{(char)('a' + i)} [{string.Join(", ", Enumerable.Repeat($"*{(char)('a' + i - 1)}", 10))}]"));

        var error = Assert.Throws<FormatException>(() => ManifestYaml.Read(bomb));
        Assert.Contains("more than 100000 values", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Nesting_past_the_limit_and_non_mapping_documents_are_refused()
    {
        Assert.Throws<FormatException>(() => ManifestYaml.Read(new string('[', 100) + new string(']', 100)));
        Assert.Throws<FormatException>(() => ManifestYaml.Read("- just\n- a list\n"));
        Assert.Empty(ManifestYaml.Read("---\n---\n"));
    }
}
