using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using System.Numerics.Tensors;
using Turbine.Onnx.Tools.Evaluation;

namespace Turbine.Onnx.Tools.Optimization;

/// <summary>
/// Knowledge distillation for tabular and small dense models: the teacher (any ONNX model with one fp32 input of
/// shape [batch, features]) labels the data rows and noisy copies of them, and a smaller dense student (one hidden
/// layer of ReLU units) learns its outputs: squared error on values and logits, cross-entropy on probabilities. The
/// student is written with the project's graph builder with the teacher's inputs and outputs (a softmax where the
/// teacher gives probabilities, an ArgMax where it gives class ids), so it serves in the teacher's place.
/// </summary>
public static class DistillationPass
{
    private const int BatchRows = 32;
    private const int NoisyCopies = 3;

    /// <summary>Trains a student of <paramref name="hidden"/> units on <paramref name="data"/> and writes it to <paramref name="outputPath"/>.</summary>
    /// <exception cref="InferenceException">A teacher whose inputs or outputs the student cannot take over.</exception>
    public static DistillationReport Run(string teacherPath, string outputPath, SampleSet data, int hidden = 64, int epochs = 60, int seed = 7)
    {
        ArgumentNullException.ThrowIfNull(data);
        var signature = new OnnxBackend().Inspect(teacherPath);
        var input = signature.Inputs is [{ DataType: DataType.Fp32, Shape.Length: 2 } only] && only.Shape[1] > 0
            ? only
            : throw new InferenceException("distillation takes a model with one fp32 input of shape [batch, features]");
        var features = (int)input.Shape[1];
        var inputs = TrainingRows(data, features, seed);
        var rows = inputs.Length / features;
        var (primary, classes, teacherOutputs) = Label(teacherPath, inputs, rows, features);
        var width = teacherOutputs.Length / rows;
        var probabilities = LooksLikeProbabilities(teacherOutputs, width);

        // Standardized inputs and (for values) targets train evenly; the scales fold back into the weights at export.
        var (inputMean, inputScale) = Moments(inputs, features);
        var (targetMean, targetScale) = probabilities ? (new float[width], Enumerable.Repeat(1f, width).ToArray()) : Moments(teacherOutputs, width);
        var x = Standardize(inputs, inputMean, inputScale);
        var t = probabilities ? teacherOutputs : Standardize(teacherOutputs, targetMean, targetScale);
        var student = new DenseStudent(features, hidden, width, seed);
        var order = Enumerable.Range(0, rows).ToArray();
        var random = new Random(seed);
        var batchInputs = new float[BatchRows * features];
        var batchTargets = new float[BatchRows * width];
        var loss = 0f;
        for (var epoch = 0; epoch < epochs; epoch++)
        {
            random.Shuffle(order);
            var learningRate = 0.003f * (1 - (0.9f * epoch / epochs)); // decays to a tenth, for a settled end
            loss = 0;
            for (var first = 0; first < rows; first += BatchRows)
            {
                var count = Math.Min(BatchRows, rows - first);
                for (var i = 0; i < count; i++)
                {
                    x.AsSpan(order[first + i] * features, features).CopyTo(batchInputs.AsSpan(i * features));
                    t.AsSpan(order[first + i] * width, width).CopyTo(batchTargets.AsSpan(i * width));
                }

                loss += student.Train(batchInputs.AsSpan(0, count * features), batchTargets.AsSpan(0, count * width), count, probabilities, learningRate) * count;
            }

            loss /= rows;
        }

        Export(student, outputPath, input.Name, features, hidden, width, primary, classes, probabilities, inputMean, inputScale, targetMean, targetScale);
        return new DistillationReport(
            hidden, rows, epochs, loss, probabilities ? "cross-entropy on the teacher's probabilities" : "squared error on the teacher's outputs",
            new FileInfo(teacherPath).Length, new FileInfo(outputPath).Length);
    }

    /// <summary>The data rows and noisy copies of them (a tenth of each feature's deviation): more of the teacher to learn from.</summary>
    private static float[] TrainingRows(SampleSet data, int features, int seed)
    {
        var original = data.Inputs[0].AsDoubles(0, data.Rows).Select(v => (float)v).ToArray();
        var (_, scale) = Moments(original, features);
        var random = new Random(seed);
        var rows = new float[original.Length * (1 + NoisyCopies)];
        original.CopyTo(rows, 0);
        for (var i = original.Length; i < rows.Length; i++)
        {
            var gaussian = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
            rows[i] = original[i % original.Length] + (float)(gaussian * 0.1 * scale[i % features]);
        }

        return rows;
    }

    /// <summary>The teacher's answers: its first float output of shape [batch, width], and the name of a class-id output that is that output's arg max.</summary>
    private static (string Primary, string? Classes, float[] Outputs) Label(string teacherPath, float[] inputs, int rows, int features)
    {
        OnnxThreadBudget.EnsureEnvironment();
        using var session = new InferenceSession(teacherPath);
        var outputs = session.OutputMetadata;
        var primary = outputs.FirstOrDefault(o => o.Value.ElementDataType == TensorElementType.Float && o.Value.Dimensions.Length == 2).Key
            ?? throw new InferenceException("distillation needs a teacher output of fp32 values of shape [batch, width]");
        var classes = outputs.FirstOrDefault(o => o.Key != primary && o.Value.ElementDataType == TensorElementType.Int64 && o.Value.Dimensions.Length == 1).Key;
        if (outputs.Keys.Any(name => name != primary && name != classes))
        {
            throw new InferenceException($"distillation reproduces one fp32 output and its class ids; the teacher also has {string.Join(", ", outputs.Keys.Where(n => n != primary && n != classes))}");
        }

        var values = new List<float>();
        var agree = 0;
        using var runOptions = new RunOptions();
        var names = classes is null ? new[] { primary } : [primary, classes];
        for (var first = 0; first < rows; first += 256)
        {
            var count = Math.Min(256, rows - first);
            using var batch = OrtValue.CreateTensorValueFromMemory(inputs.AsSpan(first * features, count * features).ToArray(), [count, features]);
            using var results = session.Run(runOptions, [session.InputNames[0]], [batch], names);
            var block = results[0].GetTensorDataAsSpan<float>();
            values.AddRange(block);
            if (classes is not null)
            {
                var ids = results[1].GetTensorDataAsSpan<long>();
                var width = block.Length / count;
                for (var r = 0; r < count; r++)
                {
                    agree += TensorPrimitives.IndexOfMax(block.Slice(r * width, width)) == ids[r] ? 1 : 0;
                }
            }
        }

        if (classes is not null && agree < rows * 0.99)
        {
            throw new InferenceException($"the teacher's '{classes}' is not the arg max of '{primary}' ({agree} of {rows} rows), so the student cannot reproduce it");
        }

        return (primary, classes, [.. values]);
    }

    private static bool LooksLikeProbabilities(float[] values, int width)
    {
        for (var start = 0; start < values.Length; start += width)
        {
            var row = values.AsSpan(start, width);
            if (TensorPrimitives.Min(row) < 0 || Math.Abs(TensorPrimitives.Sum(row) - 1) > 1e-3)
            {
                return false;
            }
        }

        return width > 1;
    }

    private static (float[] Mean, float[] Scale) Moments(float[] values, int width)
    {
        var rows = values.Length / width;
        var mean = new float[width];
        var scale = new float[width];
        for (var c = 0; c < width; c++)
        {
            double sum = 0, squares = 0;
            for (var r = 0; r < rows; r++)
            {
                var v = values[(r * width) + c];
                sum += v;
                squares += v * v;
            }

            mean[c] = (float)(sum / rows);
            var variance = Math.Max(0, (squares / rows) - (mean[c] * (double)mean[c]));
            scale[c] = variance > 1e-12 ? (float)Math.Sqrt(variance) : 1f;
        }

        return (mean, scale);
    }

    private static float[] Standardize(float[] values, float[] mean, float[] scale) =>
        [.. values.Select((v, i) => (v - mean[i % mean.Length]) / scale[i % scale.Length])];

    /// <summary>Writes the student with the standardization folded into its weights, under the teacher's names.</summary>
    private static void Export(
        DenseStudent student, string path, string inputName, int features, int hidden, int width, string primary, string? classes, bool probabilities,
        float[] inputMean, float[] inputScale, float[] targetMean, float[] targetScale)
    {
        // x' = (x - mean) / scale  =>  x' W1 + b1 = x (W1 / scale) + (b1 - (mean / scale) W1).
        var w1 = new float[features * hidden];
        var b1 = student.B1.ToArray();
        for (var i = 0; i < features; i++)
        {
            for (var j = 0; j < hidden; j++)
            {
                w1[(i * hidden) + j] = student.W1[(i * hidden) + j] / inputScale[i];
                b1[j] -= inputMean[i] / inputScale[i] * student.W1[(i * hidden) + j];
            }
        }

        // y = (h W2 + b2) * scale + mean.
        var w2 = student.W2.Select((w, i) => w * targetScale[i % width]).ToArray();
        var b2 = student.B2.Select((b, k) => (b * targetScale[k]) + targetMean[k]).ToArray();
        var logits = probabilities || classes is not null ? "student_logits" : primary;
        var builder = new OnnxModelBuilder("student")
            .Input(inputName, DataType.Fp32, -1, features)
            .Initializer("student_w1", [features, hidden], w1)
            .Initializer("student_b1", [hidden], b1)
            .Initializer("student_w2", [hidden, width], w2)
            .Initializer("student_b2", [width], b2)
            .Node("MatMul", [inputName, "student_w1"], ["student_h0"])
            .Node("Add", ["student_h0", "student_b1"], ["student_h1"])
            .Node("Relu", ["student_h1"], ["student_h2"])
            .Node("MatMul", ["student_h2", "student_w2"], ["student_y0"])
            .Node("Add", ["student_y0", "student_b2"], [logits]);
        if (logits != primary)
        {
            builder.Node(probabilities ? "Softmax" : "Identity", [logits], [primary], probabilities ? [("axis", 1L)] : []);
        }

        builder.Output(primary, DataType.Fp32, -1, width);
        if (classes is not null)
        {
            builder.Node("ArgMax", [logits], [classes], ("axis", 1L), ("keepdims", 0L)).Output(classes, DataType.Int64, -1);
        }

        OnnxModelEditor.Write(builder.Build(), path);
    }
}

/// <summary>What distillation trained.</summary>
/// <param name="Hidden">The student's hidden units.</param>
/// <param name="TrainingRows">Rows the teacher labelled (the data and noisy copies of it).</param>
/// <param name="Epochs">Passes over them.</param>
/// <param name="FinalLoss">The last epoch's mean loss (on standardized targets for values).</param>
/// <param name="Objective">What was minimized.</param>
/// <param name="BytesBefore">The teacher's file size.</param>
/// <param name="BytesAfter">The student's.</param>
public sealed record DistillationReport(int Hidden, int TrainingRows, int Epochs, float FinalLoss, string Objective, long BytesBefore, long BytesAfter);
