using System.Text.Json;
using Turbine.Monitoring.Profiles;

namespace Turbine.Monitoring.Tests;

public sealed class ProfileTests
{
    [Fact]
    public void Layout_names_each_element_and_the_predicted_class()
    {
        Assert.Equal(["x[0]", "x[1]", "x[2]", "colour", "probs[0]", "probs[1]", "probs:class"], Synthetic.Layout.Features.Select(f => f.Name));
        Assert.Equal(FeatureKind.Categorical, Synthetic.Layout.Find("colour")!.Kind);
    }

    [Fact]
    public void Layout_leaves_out_wide_and_variable_tensors_with_the_reason()
    {
        var config = new ModelConfig { Name = "m", MaxBatchSize = 8, Inputs = [new TensorConfig("image", DataType.Fp32, [3, 32, 32]), new TensorConfig("tokens", DataType.Int64, [-1])] };

        var layout = FeatureLayout.For(config, null);

        Assert.Empty(layout.Features);
        Assert.Contains(layout.Skipped, s => s.Contains("'image'", StringComparison.Ordinal) && s.Contains("more than 64", StringComparison.Ordinal));
        Assert.Contains(layout.Skipped, s => s.Contains("'tokens'", StringComparison.Ordinal) && s.Contains("variable", StringComparison.Ordinal));
    }

    [Fact]
    public void Profile_holds_moments_quantiles_categories_and_a_sorted_sample()
    {
        var profile = Synthetic.Profile(5000);

        var x1 = profile.Find("x[1]")!;
        Assert.Equal(5000, profile.Rows);
        Assert.Equal(5, x1.Mean, 0.15);
        Assert.Equal(2, x1.StandardDeviation, 0.1);
        Assert.Equal(x1.Min, x1.Quantiles[0]);
        Assert.Equal(x1.Max, x1.Quantiles[100]);
        Assert.Equal(5, x1.Quantiles[50], 0.15);
        Assert.Equal(5000, x1.HistogramCounts.Sum());
        Assert.Equal(2000, x1.Sample.Count);
        Assert.True(x1.Sample.Zip(x1.Sample.Skip(1)).All(p => p.First <= p.Second));
        Assert.Null(x1.Categories);
        var colour = profile.Find("colour")!;
        Assert.Equal(0.7, colour.Categories!["red"] / 5000.0, 0.03);
        Assert.Equal(["0", "1"], profile.Find("probs:class")!.Categories!.Keys);
    }

    [Fact]
    public void Profile_counts_missing_values_and_keeps_few_valued_numbers_by_category()
    {
        var config = new ModelConfig { Name = "m", MaxBatchSize = 8, Inputs = [new TensorConfig("a", DataType.Fp64, [2])] };
        var layout = FeatureLayout.For(config, null);
        var builder = new ProfileBuilder("m", layout);
        using var a = Tensor.FromArray<double>("a", [4, 2], [1, 0.5, double.NaN, 1.5, 2, 2.5, 1, 3.5]);

        builder.Add(FeatureTable.Read(layout, [a], [])!);
        var profile = builder.Build(DateTimeOffset.UnixEpoch);

        Assert.Equal(1, profile.Find("a[0]")!.Missing);
        Assert.Equal(new Dictionary<string, long> { ["1"] = 2, ["2"] = 1 }, profile.Find("a[0]")!.Categories);
    }

    [Fact]
    public void Profile_survives_its_json_form()
    {
        var profile = Synthetic.Profile(1000, labelled: true);
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            ProfileJson.Write(writer, profile);
        }

        var errors = new List<string>();
        var read = ProfileJson.Read(buffer.WrittenSpan, errors);

        Assert.Empty(errors);
        Assert.Equal(profile.Rows, read!.Rows);
        Assert.Equal(profile.Features.Select(f => f.Name), read.Features.Select(f => f.Name));
        Assert.Equal(profile.Find("x[0]")!.Sample, read.Find("x[0]")!.Sample);
        Assert.Equal(profile.Find("colour")!.Categories, read.Find("colour")!.Categories);
        Assert.Equal(profile.Calibration!.Rows, read.Calibration!.Rows);
    }

    [Theory]
    [InlineData("""{"format":"other"}""", "format")]
    [InlineData("""{"format":"turbine.profile/1","features":[{"name":"a","sample":[3,1]}]}""", "sorted")]
    [InlineData("""{"format":"turbine.profile/1","features":[{"name":"a","sample":["x"]}]}""", "finite numbers")]
    [InlineData("""{"format":"turbine.profile/1","features":[{"name":"a","categories":{"b":-1}}]}""", "counts")]
    [InlineData("""[[[[[[[[[[]]]]]]]]]]""", "not JSON")]
    public void Hostile_profiles_are_refused_with_the_field(string json, string expected)
    {
        var errors = new List<string>();

        Assert.Null(ProfileJson.Read(System.Text.Encoding.UTF8.GetBytes(json), errors));
        Assert.Contains(errors, e => e.Contains(expected, StringComparison.Ordinal));
    }
}
