using Onnx;

namespace Turbine.Onnx.Tools.Optimization;

/// <summary>
/// 4-bit weight-only quantization of MatMul: each constant weight matrix [K, N] is stored transposed as 4-bit codes in
/// blocks of <c>block_size</c> values along K, each block with its own scale (symmetric: code = round(w / scale) + 8,
/// scale = max |w| / 7), and the node becomes ONNX Runtime's <c>MatMulNBits</c> (<c>com.microsoft</c>), which
/// dequantizes as it multiplies. Activations stay fp32. Weights shrink about 6x (4 bits and a scale per block); the
/// error is larger than int8's, so it suits large matrices (language models' projections) more than small ones.
/// Gemm nodes (the graph pass's fusion of MatMul and Add) stay fp32: run this pass on the unoptimized model.
/// </summary>
public static class Int4WeightPass
{
    /// <param name="modelPath">The original model.</param>
    /// <param name="outputPath">Where the quantized model goes.</param>
    /// <param name="blockSize">Values per block along K: a power of two, at least 16 (ONNX Runtime's rule).</param>
    /// <param name="accuracyLevel">ONNX Runtime's <c>accuracy_level</c>: 0 (unset), 1 (fp32), 2 (fp16), 3 (bf16) or 4 (int8) for the computation.</param>
    public static QuantizationReport Run(string modelPath, string outputPath, int blockSize = 32, int accuracyLevel = 0)
    {
        if (blockSize < 16 || (blockSize & (blockSize - 1)) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(blockSize), blockSize, "the block size must be a power of two, at least 16");
        }

        if (accuracyLevel is < 0 or > 4)
        {
            throw new ArgumentOutOfRangeException(nameof(accuracyLevel), accuracyLevel, "the accuracy level runs from 0 to 4");
        }

        var model = OnnxModelEditor.Read(modelPath);
        var graph = model.Graph;
        var initializers = graph.Initializer.ToDictionary(tensor => tensor.Name, StringComparer.Ordinal);
        var quantized = new List<string>();
        var skipped = new List<(string Node, string Reason)>();
        for (var i = 0; i < graph.Node.Count; i++)
        {
            var node = graph.Node[i];
            if (!GraphEdits.IsDenseProduct(node))
            {
                continue;
            }

            if (node.OpType == "Gemm")
            {
                skipped.Add((node.Name, "Gemm: run the 4-bit pass before the graph optimization pass fuses MatMul and Add"));
                continue;
            }

            if (!initializers.TryGetValue(node.Input[1], out var weights) || !GraphEdits.IsFloatMatrix(weights))
            {
                skipped.Add((node.Name, "its weights are not a constant 2-D fp32 matrix"));
                continue;
            }

            var (k, n) = ((int)weights.Dims[0], (int)weights.Dims[1]);
            var (codes, scales, blocks) = Quantize(GraphEdits.Floats(weights), k, n, blockSize);
            var prefix = $"{node.Name}_{i}_q4";
            graph.Initializer.Add(GraphEdits.Tensor(prefix + "_B", TensorProto.Types.DataType.Uint8, [n, blocks, blockSize / 2], codes));
            graph.Initializer.Add(GraphEdits.Tensor(prefix + "_scales", TensorProto.Types.DataType.Float, [n * blocks],
                System.Runtime.InteropServices.MemoryMarshal.AsBytes(scales.AsSpan())));
            var replacement = new NodeProto { Name = prefix, OpType = "MatMulNBits", Domain = GraphEdits.MicrosoftDomain };
            replacement.Input.AddRange([node.Input[0], prefix + "_B", prefix + "_scales"]);
            replacement.Output.AddRange(node.Output);
            replacement.Attribute.AddRange([Int("K", k), Int("N", n), Int("bits", 4), Int("block_size", blockSize), Int("accuracy_level", accuracyLevel)]);
            graph.Node[i] = replacement;
            quantized.Add(node.Name);
        }

        return GraphEdits.WriteQuantized(model, modelPath, outputPath, quantized, skipped);
    }

    /// <summary>Codes for column n's block b at [n, b, ...], two per byte, the lower K index in the low nibble; a last partial block is padded with zeros.</summary>
    private static (byte[] Codes, float[] Scales, int Blocks) Quantize(float[] weights, int k, int n, int blockSize)
    {
        var blocks = (k + blockSize - 1) / blockSize;
        var codes = new byte[n * blocks * blockSize / 2];
        var scales = new float[n * blocks];
        for (var column = 0; column < n; column++)
        {
            for (var block = 0; block < blocks; block++)
            {
                var first = block * blockSize;
                var last = Math.Min(k, first + blockSize);
                var max = 0f;
                for (var row = first; row < last; row++)
                {
                    max = Math.Max(max, Math.Abs(weights[(row * n) + column]));
                }

                var scale = max == 0 ? 1 : max / 7f;
                scales[(column * blocks) + block] = scale;
                var blob = ((column * blocks) + block) * (blockSize / 2);
                for (var j = 0; j < blockSize; j++)
                {
                    var row = first + j;
                    var code = row < last ? (int)Math.Clamp(MathF.Round(weights[(row * n) + column] / scale) + 8, 0, 15) : 8; // 8 is zero
                    codes[blob + (j / 2)] |= (byte)((j & 1) == 0 ? code : code << 4);
                }
            }
        }

        return (codes, scales, blocks);
    }

    private static AttributeProto Int(string name, long value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };
}
