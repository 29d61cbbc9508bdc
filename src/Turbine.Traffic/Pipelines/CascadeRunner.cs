namespace Turbine.Traffic.Pipelines;

/// <summary>
/// Runs a cascade step: each stage answers the rows it is sure of, and only the unsure rows go on to the next stage,
/// whose answers are written back into those rows; the last stage answers whatever reaches it. Rows are the first
/// dimension of the inputs and outputs; a request whose tensors cannot be split that way (BYTES, or rows that do not
/// line up) escalates whole when any of its rows is unsure.
/// </summary>
internal static class CascadeRunner
{
    /// <summary>Runs the cascade over <paramref name="stepRequest"/>, whose inputs stay the caller's.</summary>
    public static Task<StepOutcome> RunAsync(CascadeStep cascade, InferenceRequest stepRequest, ModelCaller call, StepStatistics statistics, CancellationToken cancellationToken) =>
        FromStageAsync(cascade, 0, stepRequest, call, statistics, cancellationToken);

    private static async Task<StepOutcome> FromStageAsync(
        CascadeStep cascade, int stage, InferenceRequest request, ModelCaller call, StepStatistics statistics, CancellationToken cancellationToken)
    {
        var current = cascade.Stages[stage];
        var outcome = await CompiledPipeline.CallAsync(cascade, current.Target, request, call, cancellationToken, keepInputs: true);
        if (outcome.Error is not null)
        {
            return outcome;
        }

        var scores = outcome.Outputs.First(t => t.Name == cascade.OutputMap[cascade.ConfidenceOutput]);
        if (current.Threshold is not { } threshold)
        {
            statistics.Answered(stage, scores.Shape.Length == 0 ? 1 : scores.Shape[0]); // the last stage answers whatever reaches it
            return outcome;
        }

        var confidences = TensorAggregation.RowConfidences(scores);
        if (confidences is null)
        {
            outcome.Dispose();
            return new StepOutcome([], InferenceError.Internal($"the confidence output '{cascade.ConfidenceOutput}' of '{current.Target}' must be FP32 or FP64"));
        }

        var unsure = Enumerable.Range(0, confidences.Length).Where(row => confidences[row] < threshold).ToList();
        if (unsure.Count == 0)
        {
            statistics.Answered(stage, confidences.Length);
            return outcome;
        }

        if (unsure.Count < confidences.Length && RowSlicing.CanSplit(request.Inputs, confidences.Length) && RowSlicing.CanSplit(outcome.Outputs, confidences.Length))
        {
            using var unsureRows = new InferenceRequest { ModelName = request.ModelName, Id = request.Id, Parameters = request.Parameters };
            unsureRows.Inputs.AddRange(request.Inputs.Select(input => RowSlicing.Gather(input, unsure)));
            unsureRows.Outputs.AddRange(request.Outputs);
            using var escalated = await FromStageAsync(cascade, stage + 1, unsureRows, call, statistics, cancellationToken);
            if (escalated.Error is not null)
            {
                outcome.Dispose();
                return new StepOutcome([], escalated.Error);
            }

            if (RowSlicing.TryScatter(escalated.Outputs, outcome.Outputs, unsure))
            {
                statistics.Answered(stage, confidences.Length - unsure.Count);
                return outcome with { ComputeNanoseconds = outcome.ComputeNanoseconds + escalated.ComputeNanoseconds };
            }

            outcome.Dispose();
            return new StepOutcome([], InferenceError.Internal($"the stages of cascade '{cascade.Name}' answer with tensors of different types or shapes"));
        }

        outcome.Dispose(); // not sure enough, and the rows cannot be split: the next stage answers the whole request
        var next = await FromStageAsync(cascade, stage + 1, request, call, statistics, cancellationToken);
        return next with { ComputeNanoseconds = next.ComputeNanoseconds + outcome.ComputeNanoseconds };
    }
}
