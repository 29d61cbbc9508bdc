using Turbine.Onnx.Tools;
using Turbine.Onnx.Tools.Evaluation;
using Turbine.Onnx.Tools.Optimization;
using Turbine.Tests;

namespace Turbine.Onnx.Tests;

/// <summary>Distillation: a smaller student learns the teacher's answers and serves under its inputs and outputs.</summary>
public sealed class DistillationPassTests : IDisposable
{
    private readonly TestRepository _files = new();

    public void Dispose() => _files.Dispose();

    [Fact]
    public void A_student_of_half_the_width_follows_the_teacher_far_closer_than_pruning_to_that_width()
    {
        var teacher = Write("dense.onnx", DenseModels.Create());
        var student = Path.Combine(_files.Root, "student.onnx");
        var pruned = Path.Combine(_files.Root, "pruned.onnx");

        var report = DistillationPass.Run(teacher, student, DenseModels.Calibration(teacher, rows: 512), hidden: 128);
        PruningPass.HiddenUnits(teacher, pruned, keep: 0.5);

        Assert.Equal("squared error on the teacher's outputs", report.Objective);
        Assert.Equal(512 * 4, report.TrainingRows);
        Assert.True(report.BytesAfter < report.BytesBefore * 0.6, $"{report.BytesBefore} -> {report.BytesAfter} bytes");
        var distilled = HeldOutError(teacher, student);
        var prunedError = HeldOutError(teacher, pruned);
        Assert.True(distilled < 0.05 && distilled < prunedError / 10, $"relative L2 on held-out rows: distilled {distilled:P1}, pruned {prunedError:P1}");
    }

    [Fact]
    public void A_classifier_student_keeps_the_probabilities_and_class_id_outputs()
    {
        var teacher = Write("classifier.onnx", SampleModels.Mlp(inputs: 8, hidden: 64, classes: 4, seed: 3));
        var student = Path.Combine(_files.Root, "student.onnx");
        var signature = new OnnxBackend().Inspect(teacher);

        var report = DistillationPass.Run(teacher, student, SampleSet.Random(signature, rows: 2048, seed: 1), hidden: 32);

        Assert.Equal("cross-entropy on the teacher's probabilities", report.Objective);
        var studentSignature = new OnnxBackend().Inspect(student);
        Assert.Equal(signature.Inputs.Select(i => (i.Name, i.DataType)), studentSignature.Inputs.Select(i => (i.Name, i.DataType)));
        Assert.Equal(signature.Outputs.Select(o => (o.Name, o.DataType)), studentSignature.Outputs.Select(o => (o.Name, o.DataType)));
        using var original = new ModelUnderTest("teacher", teacher);
        using var distilled = new ModelUnderTest("student", student);
        using var batch = SampleSet.Random(signature, rows: 256, seed: 99).Batch(256);
        using var expected = original.Run(batch);
        using var actual = distilled.Run(batch);
        var comparison = OutputComparison.Compare([expected], [actual]);
        Assert.True(comparison.Top1Agreement >= 0.9, $"top-1 agreement {comparison.Top1Agreement:P1}");
    }

    [Fact]
    public void A_teacher_with_inputs_a_dense_student_cannot_take_is_refused()
    {
        var teacher = Write("two-inputs.onnx", SampleModels.AddSub(DataType.Fp32, 4));
        var signature = new OnnxBackend().Inspect(teacher);

        var error = Assert.Throws<InferenceException>(() => DistillationPass.Run(teacher, Path.Combine(_files.Root, "x.onnx"), SampleSet.Random(signature, 8)));

        Assert.Contains("one fp32 input of shape [batch, features]", error.Message, StringComparison.Ordinal);
    }

    private static double HeldOutError(string teacher, string candidate)
    {
        using var original = new ModelUnderTest("teacher", teacher);
        using var other = new ModelUnderTest("candidate", candidate);
        using var batch = DenseModels.Calibration(teacher, rows: 256, firstRow: 5000).Batch(256);
        using var expected = original.Run(batch);
        using var actual = other.Run(batch);
        return OutputComparison.Compare([expected], [actual]).RelativeL2;
    }

    private string Write(string name, byte[] bytes)
    {
        var path = Path.Combine(_files.Root, name);
        File.WriteAllBytes(path, bytes);
        return path;
    }
}
