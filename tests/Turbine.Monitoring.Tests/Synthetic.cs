using Turbine.Monitoring.Profiles;

namespace Turbine.Monitoring.Tests;

/// <summary>
/// A synthetic tabular classifier: three numeric features x[0..2] drawn from normals, a text feature <c>colour</c>,
/// and class probabilities from a logistic model on x[0] (sharpened when <c>overconfident</c>), with labels drawn
/// from the true probabilities.
/// </summary>
internal static class Synthetic
{
    public static ModelConfig Config { get; } = new()
    {
        Name = "clf",
        MaxBatchSize = 64,
        Inputs = [new TensorConfig("x", DataType.Fp32, [3]), new TensorConfig("colour", DataType.Bytes, [1])],
        Outputs = [new TensorConfig("probs", DataType.Fp32, [2])],
    };

    public static FeatureLayout Layout { get; } = FeatureLayout.For(Config, "probs");

    public static double Gaussian(Random random) => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

    /// <summary>One request of <paramref name="rows"/> rows and its answer; the labels drawn from the true probabilities.</summary>
    public static (Tensor[] Inputs, Tensor[] Outputs, string[] Labels) Batch(Random random, int rows, double shift = 0, bool overconfident = false)
    {
        var x = new float[rows * 3];
        var colours = new string[rows];
        var probs = new float[rows * 2];
        var labels = new string[rows];
        for (var r = 0; r < rows; r++)
        {
            x[r * 3] = (float)(Gaussian(random) + shift);
            x[(r * 3) + 1] = (float)((Gaussian(random) * 2) + 5);
            x[(r * 3) + 2] = (float)random.NextDouble();
            colours[r] = random.NextDouble() < 0.7 ? "red" : "blue";
            var truth = 1 / (1 + Math.Exp(-2 * x[r * 3]));
            var said = overconfident ? 1 / (1 + Math.Exp(-6 * x[r * 3])) : truth;
            probs[(r * 2) + 1] = (float)said;
            probs[r * 2] = (float)(1 - said);
            labels[r] = random.NextDouble() < truth ? "1" : "0";
        }

        return (
            [Tensor.FromArray<float>("x", [rows, 3], x), Tensor.FromStrings("colour", [rows, 1], colours)],
            [Tensor.FromArray<float>("probs", [rows, 2], probs)],
            labels);
    }

    /// <summary>A profile of <paramref name="rows"/> reference rows, with labels when <paramref name="labelled"/>.</summary>
    public static ReferenceProfile Profile(int rows, int seed = 1, bool overconfident = false, bool labelled = false)
    {
        var random = new Random(seed);
        var builder = new ProfileBuilder("clf", Layout);
        for (var done = 0; done < rows; done += 50)
        {
            var (inputs, outputs, labels) = Batch(random, 50, overconfident: overconfident);
            builder.Add(FeatureTable.Read(Layout, inputs, outputs)!, labelled ? labels : null);
            Dispose(inputs, outputs);
        }

        return builder.Build(DateTimeOffset.UnixEpoch);
    }

    public static void Dispose(Tensor[] inputs, Tensor[] outputs)
    {
        foreach (var tensor in inputs.Concat(outputs))
        {
            tensor.Dispose();
        }
    }
}
