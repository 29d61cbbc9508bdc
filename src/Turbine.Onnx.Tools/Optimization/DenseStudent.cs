using System.Numerics.Tensors;

namespace Turbine.Onnx.Tools.Optimization;

/// <summary>
/// The student network distillation trains: features -> hidden units (ReLU) -> outputs, trained with Adam on
/// standardized inputs and targets, by mean squared error (regression, logits) or softmax cross-entropy against the
/// teacher's probabilities. Written here because TorchSharp's native library does not load on this project's Linux
/// (docs/OPTIMIZATION.md); the arithmetic runs on <see cref="TensorPrimitives"/>' vectorized kernels.
/// </summary>
internal sealed class DenseStudent
{
    private const float Beta1 = 0.9f, Beta2 = 0.999f, Epsilon = 1e-8f;

    private readonly int _inputs, _hidden, _outputs;
    private readonly float[] _w1, _b1, _w2, _b2;
    private readonly float[][] _parameters, _gradients, _firstMoments, _secondMoments;
    private int _step;

    public DenseStudent(int inputs, int hidden, int outputs, int seed)
    {
        (_inputs, _hidden, _outputs) = (inputs, hidden, outputs);
        var random = new Random(seed);
        _w1 = Initial(random, inputs * hidden, MathF.Sqrt(2f / inputs)); // He: ReLU follows
        _b1 = new float[hidden];
        _w2 = Initial(random, hidden * outputs, MathF.Sqrt(1f / hidden));
        _b2 = new float[outputs];
        _parameters = [_w1, _b1, _w2, _b2];
        _gradients = [.. _parameters.Select(p => new float[p.Length])];
        _firstMoments = [.. _parameters.Select(p => new float[p.Length])];
        _secondMoments = [.. _parameters.Select(p => new float[p.Length])];
    }

    /// <summary>First-layer weights [inputs, hidden], row-major.</summary>
    public float[] W1 => _w1;

    public float[] B1 => _b1;

    /// <summary>Second-layer weights [hidden, outputs], row-major.</summary>
    public float[] W2 => _w2;

    public float[] B2 => _b2;

    /// <summary>One Adam step on a batch; returns the batch's loss.</summary>
    /// <param name="inputs">[rows, inputs].</param>
    /// <param name="targets">[rows, outputs]: values (regression) or probabilities (<paramref name="softmax"/>).</param>
    /// <param name="rows">Rows in the batch.</param>
    /// <param name="softmax">Cross-entropy through a softmax instead of squared error.</param>
    /// <param name="learningRate">Adam's step size.</param>
    public float Train(ReadOnlySpan<float> inputs, ReadOnlySpan<float> targets, int rows, bool softmax, float learningRate)
    {
        foreach (var gradient in _gradients)
        {
            Array.Clear(gradient);
        }

        var hidden = new float[rows * _hidden];
        var output = new float[rows * _outputs];
        Forward(inputs, rows, hidden, output);
        var loss = 0f;
        var delta = new float[_outputs];
        var hiddenDelta = new float[_hidden];
        for (var r = 0; r < rows; r++)
        {
            var y = output.AsSpan(r * _outputs, _outputs);
            var t = targets.Slice(r * _outputs, _outputs);
            if (softmax)
            {
                TensorPrimitives.SoftMax(y, delta);
                for (var k = 0; k < _outputs; k++)
                {
                    loss -= t[k] * MathF.Log(Math.Max(delta[k], 1e-12f));
                }

                TensorPrimitives.Subtract(delta, t, delta);
                TensorPrimitives.Divide(delta, rows, delta);
            }
            else
            {
                TensorPrimitives.Subtract(y, t, delta);
                loss += TensorPrimitives.SumOfSquares(delta) / _outputs;
                TensorPrimitives.Multiply(delta, 2f / (rows * _outputs), delta);
            }

            // Output layer: dW2 += h^T delta, db2 += delta; then back through W2 and the ReLU.
            var h = hidden.AsSpan(r * _hidden, _hidden);
            TensorPrimitives.Add(_gradients[3], delta, _gradients[3]);
            for (var j = 0; j < _hidden; j++)
            {
                var row = _w2.AsSpan(j * _outputs, _outputs);
                hiddenDelta[j] = h[j] > 0 ? TensorPrimitives.Dot(row, delta) : 0;
                if (h[j] > 0)
                {
                    var gradientRow = _gradients[2].AsSpan(j * _outputs, _outputs);
                    TensorPrimitives.MultiplyAdd(delta, h[j], gradientRow, gradientRow);
                }
            }

            // Hidden layer: dW1 += x^T hiddenDelta, db1 += hiddenDelta.
            TensorPrimitives.Add(_gradients[1], hiddenDelta, _gradients[1]);
            var x = inputs.Slice(r * _inputs, _inputs);
            for (var i = 0; i < _inputs; i++)
            {
                if (x[i] != 0)
                {
                    var gradientRow = _gradients[0].AsSpan(i * _hidden, _hidden);
                    TensorPrimitives.MultiplyAdd(hiddenDelta, x[i], gradientRow, gradientRow);
                }
            }
        }

        Adam(learningRate);
        return loss / rows;
    }

    /// <summary>The outputs for <paramref name="rows"/> rows of inputs (before any softmax).</summary>
    public void Forward(ReadOnlySpan<float> inputs, int rows, Span<float> hidden, Span<float> output)
    {
        for (var r = 0; r < rows; r++)
        {
            var h = hidden.Slice(r * _hidden, _hidden);
            _b1.CopyTo(h);
            var x = inputs.Slice(r * _inputs, _inputs);
            for (var i = 0; i < _inputs; i++)
            {
                if (x[i] != 0)
                {
                    TensorPrimitives.MultiplyAdd(_w1.AsSpan(i * _hidden, _hidden), x[i], h, h);
                }
            }

            TensorPrimitives.Max(h, 0f, h);
            var y = output.Slice(r * _outputs, _outputs);
            _b2.CopyTo(y);
            for (var j = 0; j < _hidden; j++)
            {
                if (h[j] > 0)
                {
                    TensorPrimitives.MultiplyAdd(_w2.AsSpan(j * _outputs, _outputs), h[j], y, y);
                }
            }
        }
    }

    private void Adam(float learningRate)
    {
        _step++;
        var correction1 = 1 - MathF.Pow(Beta1, _step);
        var correction2 = 1 - MathF.Pow(Beta2, _step);
        for (var p = 0; p < _parameters.Length; p++)
        {
            var (parameter, gradient, m, v) = (_parameters[p], _gradients[p], _firstMoments[p], _secondMoments[p]);
            for (var i = 0; i < parameter.Length; i++)
            {
                m[i] = (Beta1 * m[i]) + ((1 - Beta1) * gradient[i]);
                v[i] = (Beta2 * v[i]) + ((1 - Beta2) * gradient[i] * gradient[i]);
                parameter[i] -= learningRate * (m[i] / correction1) / (MathF.Sqrt(v[i] / correction2) + Epsilon);
            }
        }
    }

    private static float[] Initial(Random random, int count, float deviation) =>
        [.. Enumerable.Range(0, count).Select(_ => (float)(Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble())) * deviation)];
}
