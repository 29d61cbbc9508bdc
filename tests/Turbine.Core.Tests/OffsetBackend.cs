using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using Turbine.Core.Execution;

namespace Turbine.Core.Tests;

/// <summary>
/// A second backend, registered as <c>offset</c>, that brings its own kind of runner (no instances, no queue): its
/// "model file" <c>model.txt</c> holds a number, and OUTPUT0 = INPUT0 + that number + the <c>offset.bias</c> setting.
/// It proves that backends are picked by name, read their own settings, and that a runner of another kind gets
/// versions, labels, reload, warm-up, drain and statistics from the seams alone.
/// </summary>
internal sealed class OffsetBackend : IModelBackend, IVersionRunnerFactory
{
    public string Name => "offset";

    public string DefaultModelFileName => "model.txt";

    /// <summary>Every runner created, in load order.</summary>
    public ConcurrentQueue<OffsetRunner> Runners { get; } = new();

    public BackendSettings ReadSettings(JsonElement? section, List<string> errors)
    {
        var bias = section is { ValueKind: JsonValueKind.Object } value ? ConfigJson.Int(value, "bias", errors, "offset") ?? 0 : 0;
        if (bias < 0)
        {
            errors.Add("'offset.bias' must be >= 0");
        }

        return new OffsetSettings(bias);
    }

    public ModelSignature Inspect(string modelPath) =>
        new([new TensorSignature("INPUT0", DataType.Int32, [-1, 2])], [new TensorSignature("OUTPUT0", DataType.Int32, [-1, 2])]);

    public IModelInstance CreateInstance(string modelPath, ModelConfig config) => throw new NotSupportedException("offset versions run on their own runner");

    public IVersionRunner CreateRunner(VersionLoadContext context)
    {
        var offset = int.Parse(File.ReadAllText(context.ModelPath), CultureInfo.InvariantCulture) + ((OffsetSettings)context.Config.Settings).Bias;
        var runner = new OffsetRunner(context, offset);
        Runners.Enqueue(runner);
        return runner;
    }

    internal sealed record OffsetSettings(int Bias) : BackendSettings
    {
        public override IReadOnlyList<KeyValuePair<string, string>> Parameters() => [new("bias", Bias.ToString(CultureInfo.InvariantCulture))];

        public override void WriteProperties(Utf8JsonWriter writer) => writer.WriteNumber("bias", Bias);
    }

    internal sealed class OffsetRunner(VersionLoadContext context, int offset) : IVersionRunner
    {
        private int _retired;

        public ModelConfig Config => context.Config;

        public long Version => context.Version;

        public string VersionText => context.Version.ToString(CultureInfo.InvariantCulture);

        public string LoadIdentity => context.LoadIdentity;

        public ModelStatistics Statistics { get; } = new();

        public bool IsRetired => Volatile.Read(ref _retired) == 1;

        public int QueuedRequests => 0;

        public int ExecutingRequests => 0;

        public int WarmupConcurrency => 1;

        /// <summary>Requests run, warm-up included.</summary>
        public int Runs { get; private set; }

        public ValueTask<InferenceResult> EnqueueAsync(InferenceRequest request, ValidatedRequest validated, CancellationToken cancellationToken)
        {
            if (IsRetired)
            {
                return ValueTask.FromResult(InferenceResult.Failed(StatusCode.Unavailable, "unloading"));
            }

            Runs++;
            var input = validated.Inputs[0];
            var values = input.ToArray<int>().Select(v => v + offset).ToArray();
            var response = new InferenceResponse { ModelName = Config.Name, ModelVersion = VersionText, Id = request.Id };
            response.Outputs.Add(Tensor.FromArray("OUTPUT0", input.Shape, values));
            response.OutputBinary.AddRange(validated.OutputBinary);
            Statistics.Success.Record(1000);
            return ValueTask.FromResult(new InferenceResult(response, null));
        }

        public ValueTask DisposeAsync()
        {
            Volatile.Write(ref _retired, 1);
            return ValueTask.CompletedTask;
        }
    }
}
