using System.Diagnostics;
using System.Globalization;
using Turbine.Core.Execution;
using Turbine.Core.Observation;

namespace Turbine.Traffic.Pipelines;

/// <summary>Calls one model version for a pipeline step (the inference service's own path: validation, queue, cache).</summary>
public delegate ValueTask<InferenceResult> ModelCaller(InferenceRequest request, string model, string? version, CancellationToken cancellationToken);

/// <summary>
/// Runs a pipeline's requests. Tensors pass between steps by reference (a step's outputs become the next step's
/// inputs without a copy), steps start as soon as everything they consume exists, so independent branches run at the
/// same time, and a failing step cancels the others and fails the request with its error, named after the step.
/// </summary>
public sealed class CompiledPipeline
{
    private readonly IReadOnlyList<string> _inputs;
    private readonly TimeProvider _time;

    internal CompiledPipeline(PipelineDefinition definition, TimeProvider time)
    {
        _time = time;
        Definition = definition;
        _inputs = PipelineGraph.Inputs(definition.Steps);
        Statistics = new PipelineStatistics(definition);
    }

    public PipelineDefinition Definition { get; }

    public PipelineStatistics Statistics { get; }

    /// <summary>The tensors a request must carry.</summary>
    public IReadOnlyList<string> Inputs => _inputs;

    /// <summary>Runs one request. The caller keeps ownership of <paramref name="request"/>; the response owns its outputs.</summary>
    public async ValueTask<InferenceResult> RunAsync(InferenceRequest request, ModelCaller call, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(call);
        var started = _time.GetTimestamp();
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal); // the request's tensors (borrowed) and the steps' (owned)
        var owned = new List<Tensor>();
        try
        {
            var (error, compute) = TakeInputs(request, tensors) is { } refused ? (refused, 0) : await RunStepsAsync(request, tensors, owned, call, cancellationToken);
            var result = error is null ? Answer(request, tensors, owned) : InferenceResult.Failed(error);
            if (result.Response is { } response)
            {
                response.ComputeNanoseconds = compute;
            }

            (result.Error is null ? Statistics.Success : Statistics.Fail).Record(ElapsedNanoseconds(started));
            return result;
        }
        finally
        {
            foreach (var tensor in owned)
            {
                tensor.Dispose();
            }
        }
    }

    private InferenceError? TakeInputs(InferenceRequest request, Dictionary<string, Tensor> tensors)
    {
        foreach (var input in request.Inputs)
        {
            if (!_inputs.Contains(input.Name, StringComparer.Ordinal) || !tensors.TryAdd(input.Name, input))
            {
                return InferenceError.Invalid($"'{ClientText.Quote(input.Name)}' is not an input of pipeline '{Definition.Name}', or is given twice; its inputs are {string.Join(", ", _inputs)}");
            }
        }

        return _inputs.FirstOrDefault(name => !tensors.ContainsKey(name)) is { } missing
            ? InferenceError.Invalid($"pipeline '{Definition.Name}' needs input '{missing}'")
            : null;
    }

    /// <summary>
    /// Starts every step whose inputs exist, then, as each finishes, adds its outputs and starts the steps they complete.
    /// Only this loop touches <paramref name="tensors"/>: a step reads its inputs before its first await, on this thread.
    /// </summary>
    private async Task<(InferenceError? Error, long ComputeNanoseconds)> RunStepsAsync(
        InferenceRequest request, Dictionary<string, Tensor> tensors, List<Tensor> owned, ModelCaller call, CancellationToken cancellationToken)
    {
        long compute = 0;
        using var abort = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var waiting = new List<PipelineStep>(Definition.Steps);
        var running = new List<Task<StepOutcome>>();
        InferenceError? failure = null;
        while (waiting.Count > 0 || running.Count > 0)
        {
            for (var i = 0; failure is null && i < waiting.Count; i++)
            {
                if (waiting[i].Consumes.All(tensors.ContainsKey))
                {
                    running.Add(RunStepAsync(waiting[i], request, tensors, call, abort.Token));
                    waiting.RemoveAt(i--);
                }
            }

            if (running.Count == 0)
            {
                break; // after a failure, the steps never started stay waiting
            }

            var done = await Task.WhenAny(running);
            running.Remove(done);
            var outcome = await done;
            owned.AddRange(outcome.Outputs);
            compute += outcome.ComputeNanoseconds;
            if (outcome.Error is not null)
            {
                if (failure is null)
                {
                    failure = outcome.Error;
                    await abort.CancelAsync();
                }

                continue;
            }

            foreach (var tensor in outcome.Outputs)
            {
                tensors[tensor.Name] = tensor;
            }
        }

        return (failure, compute);
    }

    private async Task<StepOutcome> RunStepAsync(PipelineStep step, InferenceRequest request, Dictionary<string, Tensor> tensors, ModelCaller call, CancellationToken cancellationToken)
    {
        var started = _time.GetTimestamp();
        var statistics = Statistics.Steps[step.Name];
        using var span = TurbineTracing.StartStep("turbine.pipeline.step");
        span?.SetTag("turbine.pipeline", Definition.Name);
        span?.SetTag("turbine.step", step.Name);
        StepOutcome outcome;
        switch (step)
        {
            case AggregateStep aggregate:
                var error = TensorAggregation.Combine(aggregate.Method, [.. aggregate.Inputs.Select(name => tensors[name])], aggregate.Output, out var combined);
                outcome = new StepOutcome(combined is null ? [] : [combined], error);
                break;
            case ModelStep model:
                outcome = await CallAsync(model, model.Target, Borrow(model, request, tensors), call, cancellationToken);
                break;
            case SwitchStep choice:
                outcome = Choose(choice, request, tensors, statistics, out var target) is { } unmatched
                    ? new StepOutcome([], unmatched)
                    : await CallAsync(choice, target!, Borrow(choice, request, tensors), call, cancellationToken);
                break;
            case CascadeStep cascade:
                var stepRequest = Borrow(cascade, request, tensors);
                outcome = await CascadeRunner.RunAsync(cascade, stepRequest, call, statistics, cancellationToken);
                stepRequest.Inputs.Clear(); // borrowed: the pipeline's tensors, not the step's to free
                break;
            default:
                throw new InvalidOperationException($"unknown step kind {step.GetType().Name}");
        }

        (outcome.Error is null ? statistics.Success : statistics.Fail).Record(ElapsedNanoseconds(started));
        span?.SetStatus(outcome.Error is null ? System.Diagnostics.ActivityStatusCode.Ok : System.Diagnostics.ActivityStatusCode.Error);
        return outcome.Error is null ? outcome : outcome with { Error = outcome.Error with { Message = $"step '{step.Name}': {outcome.Error.Message}" } };
    }

    private static InferenceError? Choose(SwitchStep choice, InferenceRequest request, Dictionary<string, Tensor> tensors, StepStatistics statistics, out ModelTarget? target)
    {
        var key = choice.Parameter is { } parameter
            ? (request.Parameters?.TryGetValue(parameter, out var value) == true ? Convert.ToString(value, CultureInfo.InvariantCulture) : null)
            : FirstElement(tensors[choice.Tensor!]);
        target = key is not null && choice.Cases.TryGetValue(key, out var matched) ? matched : choice.Default;
        if (target is null)
        {
            return InferenceError.Invalid(
                $"no case for {(choice.Parameter is null ? "tensor '" + choice.Tensor : "parameter '" + choice.Parameter)}' = '{ClientText.Quote(key ?? "(missing)")}' and no default");
        }

        statistics.Cases.AddOrUpdate(ReferenceEquals(target, choice.Default) && (key is null || !choice.Cases.ContainsKey(key)) ? "default" : key!, 1, (_, n) => n + 1);
        return null;
    }

    /// <summary>The first element of a tensor as text: an integer, true/false, or a string (BYTES).</summary>
    private static string? FirstElement(Tensor tensor)
    {
        var data = tensor.Data.Span;
        return tensor.DataType switch
        {
            DataType.Bool when data.Length >= 1 => data[0] != 0 ? "true" : "false",
            DataType.Int8 when data.Length >= 1 => ((sbyte)data[0]).ToString(CultureInfo.InvariantCulture),
            DataType.UInt8 when data.Length >= 1 => data[0].ToString(CultureInfo.InvariantCulture),
            DataType.Int32 when data.Length >= 4 => BitConverter.ToInt32(data).ToString(CultureInfo.InvariantCulture),
            DataType.Int64 when data.Length >= 8 => BitConverter.ToInt64(data).ToString(CultureInfo.InvariantCulture),
            DataType.Bytes when data.Length >= 4 && BitConverter.ToInt32(data) is var length && length >= 0 && length <= data.Length - 4 =>
                System.Text.Encoding.UTF8.GetString(data.Slice(4, length)),
            _ => null,
        };
    }

    /// <summary>Builds a step's request over the pipeline's tensors, renamed to the model's inputs, without copying their data.</summary>
    private static InferenceRequest Borrow(ModelCallStep step, InferenceRequest parent, Dictionary<string, Tensor> tensors)
    {
        var stepRequest = new InferenceRequest { ModelName = step.Name, Id = parent.Id, Parameters = parent.Parameters };
        foreach (var (modelInput, pipelineTensor) in step.InputMap)
        {
            var source = tensors[pipelineTensor];
            stepRequest.Inputs.Add(new Tensor(modelInput, source.DataType, [.. source.Shape], source.Data));
        }

        foreach (var modelOutput in step.OutputMap.Keys)
        {
            stepRequest.Outputs.Add(new RequestedOutput(modelOutput));
        }

        return stepRequest;
    }

    /// <summary>
    /// Calls a model with a step's request and takes its outputs, renamed to pipeline tensors. The request's inputs are
    /// borrowed: they are cleared, never disposed (unless <paramref name="keepInputs"/>, for a cascade's next stage).
    /// </summary>
    internal static async Task<StepOutcome> CallAsync(
        ModelCallStep step, ModelTarget target, InferenceRequest stepRequest, ModelCaller call, CancellationToken cancellationToken, bool keepInputs = false)
    {
        InferenceResult result;
        try
        {
            result = await call(stepRequest, target.Model, target.Version, cancellationToken);
        }
        finally
        {
            if (!keepInputs)
            {
                stepRequest.Inputs.Clear();
            }
        }

        if (result.Response is not { } response)
        {
            return new StepOutcome([], result.Error! with { Message = $"model '{target}': {result.Error!.Message}" });
        }

        using (response)
        {
            var outputs = new List<Tensor>(step.OutputMap.Count);
            foreach (var (modelOutput, pipelineTensor) in step.OutputMap)
            {
                var index = response.Outputs.FindIndex(o => o.Name == modelOutput);
                if (index < 0)
                {
                    new StepOutcome(outputs, null).Dispose();
                    return new StepOutcome([], InferenceError.Internal($"model '{target}' has no output '{modelOutput}' for the step's output_map"));
                }

                var output = response.Outputs[index];
                response.Outputs.RemoveAt(index); // the pipeline owns it now
                outputs.Add(new Tensor(pipelineTensor, output.DataType, output.Shape, output.Data));
            }

            return new StepOutcome(outputs, null, response.ComputeNanoseconds);
        }
    }

    /// <summary>The response: the pipeline's outputs (all, or those the client asked for), handed over without a copy.</summary>
    private InferenceResult Answer(InferenceRequest request, Dictionary<string, Tensor> tensors, List<Tensor> owned)
    {
        var response = new InferenceResponse { ModelName = Definition.Name, ModelVersion = "1", Id = request.Id };
        var wanted = request.Outputs.Count == 0 ? [.. Definition.Outputs.Select(name => new RequestedOutput(name))] : request.Outputs;
        foreach (var output in wanted)
        {
            if (!Definition.Outputs.Contains(output.Name, StringComparer.Ordinal))
            {
                response.Dispose();
                return InferenceResult.Failed(InferenceError.Invalid(
                    $"'{ClientText.Quote(output.Name)}' is not an output of pipeline '{Definition.Name}'; its outputs are {string.Join(", ", Definition.Outputs)}"));
            }

            var tensor = tensors[output.Name];
            owned.Remove(tensor);
            response.Outputs.Add(tensor);
            response.OutputBinary.Add(output.BinaryData || request.BinaryDataOutputByDefault);
        }

        return new InferenceResult(response, null);
    }

    private long ElapsedNanoseconds(long started) => (long)_time.GetElapsedTime(started).TotalNanoseconds;
}
