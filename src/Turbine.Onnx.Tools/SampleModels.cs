namespace Turbine.Onnx.Tools;

/// <summary>Small models built in code for tests, samples and the demo repository. All batch on dimension 0.</summary>
public static class SampleModels
{
    /// <summary>
    /// A tabular classifier: <c>features</c> FP32 [batch, inputs] -> MatMul/Add/Relu -> MatMul/Add -> Softmax gives
    /// <c>probabilities</c> FP32 [batch, classes]; ArgMax gives <c>label</c> INT64 [batch]. Weights come from a seeded
    /// generator, so the same arguments always make the same model.
    /// </summary>
    public static byte[] Mlp(int inputs = 4, int hidden = 16, int classes = 3, int seed = 42)
    {
        var random = new Random(seed);
        return new OnnxModelBuilder("mlp")
            .Input("features", DataType.Fp32, -1, inputs)
            .Initializer("w1", [inputs, hidden], Weights(random, inputs * hidden))
            .Initializer("b1", [hidden], Weights(random, hidden))
            .Initializer("w2", [hidden, classes], Weights(random, hidden * classes))
            .Initializer("b2", [classes], Weights(random, classes))
            .Node("MatMul", ["features", "w1"], ["h0"])
            .Node("Add", ["h0", "b1"], ["h1"])
            .Node("Relu", ["h1"], ["h2"])
            .Node("MatMul", ["h2", "w2"], ["l0"])
            .Node("Add", ["l0", "b2"], ["logits"])
            .Node("Softmax", ["logits"], ["probabilities"], ("axis", 1L))
            .Node("ArgMax", ["logits"], ["label"], ("axis", 1L), ("keepdims", 0L))
            .Output("probabilities", DataType.Fp32, -1, classes)
            .Output("label", DataType.Int64, -1)
            .ToBytes();
    }

    /// <summary>Triton's classic <c>simple</c> model: OUTPUT0 = INPUT0 + INPUT1, OUTPUT1 = INPUT0 - INPUT1, shape [batch, size].</summary>
    public static byte[] AddSub(DataType type = DataType.Int32, long size = 16) =>
        new OnnxModelBuilder("add_sub")
            .Input("INPUT0", type, -1, size)
            .Input("INPUT1", type, -1, size)
            .Node("Add", ["INPUT0", "INPUT1"], ["OUTPUT0"])
            .Node("Sub", ["INPUT0", "INPUT1"], ["OUTPUT1"])
            .Output("OUTPUT0", type, -1, size)
            .Output("OUTPUT1", type, -1, size)
            .ToBytes();

    /// <summary>OUTPUT0 = INPUT0 for any data type (BYTES included), shape [batch, -1].</summary>
    public static byte[] Identity(DataType type, params long[] dims)
    {
        long[] shape = dims.Length == 0 ? [-1, -1] : dims;
        return new OnnxModelBuilder("identity")
            .Input("INPUT0", type, shape)
            .Node("Identity", ["INPUT0"], ["OUTPUT0"])
            .Output("OUTPUT0", type, shape)
            .ToBytes();
    }

    /// <summary>
    /// An ONNX equivalent of Triton's <c>simple_sequence</c> example (a custom backend there): INT32 [batch, 1] in,
    /// OUTPUT = READY * (INPUT + START), so a sequence's first answer is its input plus one and later ones echo it, the
    /// answers Triton's sequence example clients check. START and READY are its control inputs.
    /// </summary>
    public static byte[] SimpleSequence() =>
        new OnnxModelBuilder("simple_sequence")
            .Input("INPUT", DataType.Int32, -1, 1)
            .Input("START", DataType.Int32, -1, 1)
            .Input("READY", DataType.Int32, -1, 1)
            .Node("Add", ["INPUT", "START"], ["started"])
            .Node("Mul", ["started", "READY"], ["OUTPUT"])
            .Output("OUTPUT", DataType.Int32, -1, 1)
            .ToBytes();

    /// <summary>
    /// An ONNX equivalent of Triton's <c>simple_dyna_sequence</c> example: OUTPUT = READY * (INPUT + START + END * CORRID),
    /// with CORRID an UINT64 control (its low 32 bits are added on the sequence's last request, as Triton's model does).
    /// </summary>
    public static byte[] SimpleDynaSequence() =>
        new OnnxModelBuilder("simple_dyna_sequence")
            .Input("INPUT", DataType.Int32, -1, 1)
            .Input("START", DataType.Int32, -1, 1)
            .Input("END", DataType.Int32, -1, 1)
            .Input("READY", DataType.Int32, -1, 1)
            .Input("CORRID", DataType.UInt64, -1, 1)
            .Node("Cast", ["CORRID"], ["corrid"], ("to", (long)OnnxDataTypes.ToOnnx(DataType.Int32)))
            .Node("Mul", ["END", "corrid"], ["ending"])
            .Node("Add", ["INPUT", "START"], ["started"])
            .Node("Add", ["started", "ending"], ["value"])
            .Node("Mul", ["value", "READY"], ["OUTPUT"])
            .Output("OUTPUT", DataType.Int32, -1, 1)
            .ToBytes();

    /// <summary>
    /// An ONNX equivalent of the accumulator that Triton's <c>simple_string_dyna_sequence</c> example runs (its
    /// <c>dyna_sequence</c> C++ backend keeps the sum per correlation id): here the sum is implicit state. ACC = the
    /// previous ACC (zero on START) + INPUT; the sequence's last request adds its correlation id, a string of digits
    /// (CORRID, cast to INT32). OUTPUT = READY * ACC; ACC_OUT is fed back as ACC_IN by the sequence batcher.
    /// </summary>
    public static byte[] StringDynaSequence() =>
        new OnnxModelBuilder("simple_string_dyna_sequence")
            .Input("INPUT", DataType.Int32, -1, 1)
            .Input("START", DataType.Int32, -1, 1)
            .Input("END", DataType.Int32, -1, 1)
            .Input("READY", DataType.Int32, -1, 1)
            .Input("CORRID", DataType.Bytes, -1, 1)
            .Input("ACC_IN", DataType.Int32, -1, 1)
            .Initializer("one", DataType.Int32, [1], BitConverter.GetBytes(1))
            .Node("Sub", ["one", "START"], ["continuing"])
            .Node("Mul", ["ACC_IN", "continuing"], ["kept"])
            .Node("Add", ["kept", "INPUT"], ["sum"])
            .Node("Cast", ["CORRID"], ["corrid"], ("to", (long)OnnxDataTypes.ToOnnx(DataType.Int32)))
            .Node("Mul", ["END", "corrid"], ["ending"])
            .Node("Add", ["sum", "ending"], ["ACC_OUT"])
            .Node("Mul", ["ACC_OUT", "READY"], ["OUTPUT"])
            .Output("OUTPUT", DataType.Int32, -1, 1)
            .Output("ACC_OUT", DataType.Int32, -1, 1)
            .ToBytes();

    private static float[] Weights(Random random, int count)
    {
        var values = new float[count];
        for (var i = 0; i < count; i++)
        {
            values[i] = (float)((random.NextDouble() * 2) - 1);
        }

        return values;
    }
}
